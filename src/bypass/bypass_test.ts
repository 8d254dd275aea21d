import { deepStrictEqual, ok } from "node:assert/strict";
import type { ConfigError } from "../core/errors.ts";
import { rootLogger } from "../core/log.ts";
import { parsePattern } from "../core/matcher.ts";
import { BypassGroup, MatcherBypass } from "./bypass.ts";
import { buildBypasses, bypassAt } from "./build.ts";

const bp = (patterns: string[], whitelist = false, network = "") =>
  new MatcherBypass("b", patterns.map(parsePattern), whitelist, network);

Deno.test("bypass: blacklist, whitelist and network", () => {
  const black = bp(["10.0.0.0/8", ".example.org", "*.example.com:443"]);
  ok(black.contains("tcp", "10.1.2.3:80"));
  ok(black.contains("tcp", "example.org:80"));
  ok(black.contains("tcp", "www.example.com:443"));
  ok(!black.contains("tcp", "www.example.com:80"));
  ok(!black.contains("tcp", "example.com:443"), "*.example.com: subdomains only");
  ok(!black.contains("tcp", "localhost:80"));
  const white = bp(["127.0.0.1"], true);
  ok(!white.contains("tcp", "127.0.0.1:80"));
  ok(white.contains("tcp", "localhost:80"), "a name is not resolved: localhost is not 127.0.0.1");
  ok(bp([], true).contains("tcp", "1.2.3.4:1"), "an empty whitelist lets nothing through");
  const udpOnly = bp(["0.0.0.0/0"], false, "udp");
  ok(udpOnly.contains("udp", "1.2.3.4:53") && !udpOnly.contains("tcp", "1.2.3.4:53"));
});

Deno.test("bypass groups: every whitelist, else any blacklist (as gost)", () => {
  const g = new BypassGroup([bp(["a.com"], true), bp(["a.com", "b.com"], true), bp(["c.com"])]);
  ok(!g.contains("tcp", "a.com:1"), "in every whitelist: not bypassed");
  ok(!g.contains("tcp", "b.com:1"), "out of one whitelist only: whitelists need all to agree");
  ok(g.contains("tcp", "d.com:1"), "out of every whitelist");
  ok(g.contains("tcp", "c.com:1"), "out of the whitelists and in a blacklist");
  const blacks = new BypassGroup([bp(["a.com"]), bp(["b.com"])]);
  ok(
    blacks.contains("tcp", "a.com:1") && blacks.contains("tcp", "b.com:1") &&
      !blacks.contains("tcp", "c.com:1"),
  );
});

Deno.test("bypasses section: inline and file entries, malformed ones name their path or file line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ok.txt`, "# list\n10.0.0.0/8 # private\n\n.example.org\n");
    await Deno.writeTextFile(`${dir}/bad.txt`, "1.2.3.4\n\n1.2.3.4/99\n");
    const errors: ConfigError[] = [];
    const closers: (() => void)[] = [];
    const map = buildBypasses(
      [
        { name: "a", matchers: ["x.com"], file: { path: `${dir}/ok.txt` }, reload: "10s" },
        { name: "b", file: { path: `${dir}/bad.txt` } },
        { name: "c", matchers: ["ok.com", "bad host"], network: "sctp" },
        { name: "d", redis: { addr: "127.0.0.1:1" } },
      ],
      errors,
      rootLogger,
      closers,
    );
    const a = map.get("a")!;
    ok(
      a.contains("tcp", "x.com:1") && a.contains("tcp", "10.2.3.4:1") && a.contains("tcp", "w.example.org:1"),
    );
    deepStrictEqual(errors.map((e) => e.path), [
      "bypasses[1].file.path",
      "bypasses[2].matchers[1]",
      "bypasses[3].redis",
      "bypasses[2].network",
    ]);
    ok(errors[0].message.includes("bad.txt line 3: invalid matcher"), errors[0].message);
    const refErrors: ConfigError[] = [];
    ok(
      bypassAt({ bypass: "a", bypasses: ["c"] }, "chains[0].hops[0]", map, refErrors) instanceof BypassGroup,
    );
    bypassAt({ bypasses: ["a", "nope"] }, "chains[0].hops[0]", map, refErrors);
    deepStrictEqual(refErrors.map((e) => e.path), ["chains[0].hops[0].bypasses[1]"]);
    for (const close of closers) close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
