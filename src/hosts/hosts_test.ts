import { deepStrictEqual, equal, match } from "node:assert/strict";
import { ConfigError } from "../core/errors.ts";
import { Logger } from "../core/log.ts";
import { buildHosts } from "./build.ts";
import { HostMapper, parseHostsText } from "./hosts.ts";

const quiet = new Logger({ level: "fatal", format: "json", sink: () => {} });

Deno.test("hosts: the file format is gost's (IP then names, # comments, blanks and tabs)", () => {
  const { mappings, bad } = parseHostsText(
    "# ip host\n\n127.0.0.1    example.com  www.example.com # two names\n" +
      "2001:db8::1\texample.com\r\nnot-an-ip example.org\n10.0.0.1\n  \t\n",
  );
  deepStrictEqual(mappings, [
    { hostname: "example.com", ip: "127.0.0.1" },
    { hostname: "www.example.com", ip: "127.0.0.1" },
    { hostname: "example.com", ip: "2001:db8::1" },
  ]);
  deepStrictEqual(bad, [5, 6]);
});

Deno.test("hosts: exact name, then .name, then parent wildcards, then '.'; no case", () => {
  const h = new HostMapper("h", [
    { hostname: "abc.example.org", ip: "10.0.0.1" },
    { hostname: ".example.org", ip: "10.0.0.2" },
    { hostname: ".org", ip: "10.0.0.3" },
    { hostname: "Exact.Test", ip: "10.0.0.4" },
    { hostname: "exact.test", ip: "::1" },
  ]);
  deepStrictEqual(h.lookup("ABC.example.org."), ["10.0.0.1"]);
  deepStrictEqual(h.lookup("example.org"), ["10.0.0.2"]);
  deepStrictEqual(h.lookup("x.y.example.org"), ["10.0.0.2"]);
  deepStrictEqual(h.lookup("other.org"), ["10.0.0.3"]);
  equal(h.lookup("example.com"), undefined);
  deepStrictEqual(h.lookup("exact.test"), ["10.0.0.4", "::1"]);
  deepStrictEqual(h.lookup("exact.test", "ip6"), ["::1"]);
  deepStrictEqual(h.lookup("exact.test", "ip4"), ["10.0.0.4"]);
  const all = new HostMapper("all", [{ hostname: ".", ip: "127.0.0.1" }]);
  deepStrictEqual(all.lookup("anything.at.all"), ["127.0.0.1"]);
});

Deno.test("hosts: inline mappings, aliases and a file; the file is read again every reload period", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/hosts`;
  await Deno.writeTextFile(file, "127.0.0.2 from-file.test\n");
  const errors: ConfigError[] = [];
  const map = buildHosts(
    [{
      name: "h0",
      mappings: [{ ip: "127.0.0.1", hostname: "inline.test", aliases: ["alias.test"] }],
      file: { path: file },
      reload: "1s",
    }],
    errors,
    [],
    quiet,
  );
  const h = map.get("h0")!;
  try {
    deepStrictEqual(errors, []);
    deepStrictEqual(h.lookup("inline.test"), ["127.0.0.1"]);
    deepStrictEqual(h.lookup("alias.test"), ["127.0.0.1"]);
    deepStrictEqual(h.lookup("from-file.test"), ["127.0.0.2"]);
    await Deno.writeTextFile(file, "127.0.0.3 from-file.test\n127.0.0.4 new.test\n");
    await h.reload();
    deepStrictEqual(h.lookup("from-file.test"), ["127.0.0.3"]);
    deepStrictEqual(h.lookup("new.test"), ["127.0.0.4"]);
    // A file that vanishes keeps the last table.
    await Deno.remove(file);
    await h.reload();
    deepStrictEqual(h.lookup("new.test"), ["127.0.0.4"]);
  } finally {
    h.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hosts: bad input is a config error naming its path", () => {
  const errors: ConfigError[] = [];
  buildHosts(
    [
      { name: "a", mappings: [{ ip: "1.2.3", hostname: "x" }, { ip: "::1" }] },
      { name: "b", file: { path: "/nonexistent/hosts" } },
      { name: "c", redis: { addr: "127.0.0.1:6379" } },
      { name: "a" },
      { name: "d", reload: "soon", mappings: [] },
    ],
    errors,
    [],
    quiet,
  );
  const text = errors.map((e) => e.message).join("\n");
  match(text, /hosts\[0\]\.mappings\[0\]\.ip: "1\.2\.3" is not an IPv4 or IPv6 address/);
  match(text, /hosts\[0\]\.mappings\[1\]\.hostname: a mapping needs a hostname/);
  match(text, /hosts\[1\]\.file\.path: cannot read hosts file "\/nonexistent\/hosts"/);
  match(text, /hosts\[2\]\.redis: hosts from redis are not supported yet/);
  match(text, /hosts\[3\]\.name: duplicate hosts name "a"/);
  match(text, /hosts\[4\]\.reload: invalid duration "soon"/);
});
