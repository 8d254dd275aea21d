/**
 * The CLI as users meet it: validation messages with lines, -O output, -V, usage errors.
 */
import { deepStrictEqual, doesNotMatch, equal, match } from "node:assert/strict";
import yaml from "js-yaml";
import { freePort, runGost, startGost } from "../_helpers.ts";

async function withConfig(text: string, fn: (path: string) => Promise<void>, ext = "yaml") {
  const dir = await Deno.makeTempDir({ prefix: "gost-config-" });
  const path = `${dir}/gost.${ext}`;
  await Deno.writeTextFile(path, text);
  try {
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs gost -C on `text`; expects exit 1 and returns stderr. */
async function invalid(text: string): Promise<string> {
  let stderr = "";
  await withConfig(text, async (path) => {
    const r = await runGost(["-C", path]);
    equal(r.code, 1, `expected exit 1, got ${r.code}; stderr:\n${r.stderr}`);
    stderr = r.stderr;
  });
  return stderr;
}

const SERVICE = (handler: string, listener: string, extra = "") =>
  `services:
  - name: s0
    addr: 127.0.0.1:0
    handler:
      type: ${handler}
    listener:
      type: ${listener}
${extra}`;

Deno.test("config: unknown handler type names line, path, value and the supported types", async () => {
  const err = await invalid(SERVICE("htp", "tcp"));
  match(err, /line 5: services\[0\]\.handler\.type: unknown handler type "htp" \(supported: [^)]*\btcp\b/);
});

Deno.test("config: unknown listener type", async () => {
  const err = await invalid(
    SERVICE("tcp", "tcpp", "    forwarder:\n      nodes:\n        - addr: 127.0.0.1:1\n"),
  );
  match(err, /line 7: services\[0\]\.listener\.type: unknown listener type "tcpp" \(supported: [^)]*\budp\b/);
});

const CHAIN = (connector: string, dialer: string) =>
  `${
    SERVICE("tcp", "tcp", "    forwarder:\n      nodes:\n        - addr: 127.0.0.1:1\n").replace(
      "      type: tcp\n    listener",
      "      type: tcp\n      chain: c0\n    listener",
    )
  }chains:
  - name: c0
    hops:
      - name: h0
        nodes:
          - name: n0
            addr: 127.0.0.1:1080
            connector:
              type: ${connector}
            dialer:
              type: ${dialer}
`;

Deno.test("config: unknown connector type", async () => {
  const err = await invalid(CHAIN("sock5", "tcp"));
  match(
    err,
    /line 20: chains\[0\]\.hops\[0\]\.nodes\[0\]\.connector\.type: unknown connector type "sock5" \(supported: [^)]*\bforward\b/,
  );
});

Deno.test("config: unknown dialer type", async () => {
  const err = await invalid(CHAIN("forward", "tpc"));
  match(
    err,
    /line 22: chains\[0\]\.hops\[0\]\.nodes\[0\]\.dialer\.type: unknown dialer type "tpc" \(supported: [^)]*\btcp\b/,
  );
});

Deno.test("config: a bad address", async () => {
  const err = await invalid(
    SERVICE("tcp", "tcp", "    forwarder:\n      nodes:\n        - addr: 127.0.0.1:99999\n"),
  );
  match(err, /line 10: services\[0\]\.forwarder\.nodes\[0\]\.addr: .*"127\.0\.0\.1:99999".*out of range/);
  const err2 = await invalid(SERVICE("tcp", "tcp").replace("127.0.0.1:0", "localhost"));
  match(err2, /line 3: services\[0\]\.addr: invalid address "localhost": missing port/);
});

Deno.test("config: a malformed duration", async () => {
  const err = await invalid(
    SERVICE(
      "udp",
      "udp",
      "      metadata:\n        ttl: 5 seconds\n    forwarder:\n      nodes:\n        - addr: 127.0.0.1:53\n",
    ),
  );
  match(
    err,
    /line 9: services\[0\]\.listener\.metadata\.ttl: invalid value "5 seconds": expected a duration/,
  );
});

Deno.test("config: a service naming a chain that does not exist", async () => {
  const err = await invalid(CHAIN("forward", "tcp").replace("chain: c0", "chain: c9"));
  match(err, /line 6: services\[0\]\.handler\.chain: chain "c9" does not exist \(defined: c0\)/);
});

Deno.test("config: errors in several services are all reported", async () => {
  const second = SERVICE("tcp", "tcpp").replace("services:\n", "").replace("s0", "s1");
  const err = await invalid(SERVICE("htp", "tcp") + second);
  match(err, /line 5: services\[0\]\.handler\.type: unknown handler type "htp"/);
  match(err, /line 13: services\[1\]\.listener\.type: unknown listener type "tcpp"/);
});

Deno.test("config: malformed YAML names the file and line", async () => {
  await withConfig("services:\n  - name: a\n    addr: :1\n   handler: {type: tcp\n", async (path) => {
    const r = await runGost(["-C", path]);
    equal(r.code, 1);
    match(r.stderr, new RegExp(`${path.replaceAll(".", "\\.")}: line 4: malformed YAML: `));
  });
});

Deno.test("config: a missing file is named", async () => {
  const r = await runGost(["-C", "/nonexistent/gost.yaml"]);
  equal(r.code, 1);
  match(r.stderr, /\/nonexistent\/gost\.yaml: cannot read: no such file/);
});

Deno.test("config: a malformed -L URL exits 1 naming the bad part", async () => {
  const r = await runGost(["-L", "tcp://:80x/127.0.0.1:1"]);
  equal(r.code, 1);
  match(r.stderr, /invalid URL "tcp:\/\/:80x\/127\.0\.0\.1:1": bad port "80x"/);
});

Deno.test("config: an unknown type from -L has no line, only the path", async () => {
  // tun is a gost listener this project does not implement.
  const r = await runGost(["-L", "tun://127.0.0.1:0/127.0.0.1:1"]);
  equal(r.code, 1);
  match(r.stderr, /^services\[0\]\.listener\.type: unknown listener type "tun" \(supported: /m);
  equal(/line \d/.test(r.stderr), false, r.stderr);
});

Deno.test("cli: -O yaml prints gost's YAML and starts nothing", async () => {
  const r = await runGost([
    "-L",
    "tcp://:8080/192.168.1.1:80",
    "-F",
    "relay://u:p@:8420?nodelay=false",
    "-O",
    "yaml",
  ]);
  equal(r.code, 0, r.stderr);
  const cfg = yaml.load(r.stdout) as any;
  equal(cfg.services[0].handler.chain, "chain-0");
  deepStrictEqual(cfg.chains[0].hops[0].nodes[0].connector, {
    type: "relay",
    auth: { username: "u", password: "p" },
    metadata: { nodelay: "false" },
  });
  // gost's key order
  deepStrictEqual(Object.keys(cfg.services[0]), ["name", "addr", "handler", "listener", "forwarder"]);
  deepStrictEqual(Object.keys(cfg.chains[0].hops[0].nodes[0]), [
    "name",
    "addr",
    "connector",
    "dialer",
    "metadata",
  ]);
  match(r.stdout, /^services:\n {2}- name: service-0\n {4}addr: /);
});

Deno.test("cli: -O json prints JSON", async () => {
  const r = await runGost(["-L", "http://:8080?udp=true", "-O", "json"]);
  equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  deepStrictEqual(cfg.services[0].handler, { type: "http", metadata: { udp: "true" } });
  match(r.stdout, /^\{\n {2}"services": \[\n {4}\{\n {6}"name"/);
});

Deno.test("cli: -O prints a config whose files are not on this machine, naming them; starting refuses it", async () => {
  const args = [
    "-L",
    "https://user:pw@:8443?certFile=/nonexistent/c.pem&keyFile=/nonexistent/k.pem",
    "-L",
    "sshd://:2222?privateKeyFile=/nonexistent/host_key&authorizedKeys=/nonexistent/authorized_keys",
    "-L",
    "relay+kcp://:8388?c=/nonexistent/kcp.json",
    "-F",
    "relay+tls://:8443?caFile=/nonexistent/ca.pem",
    "-F",
    "sshd://u@:2223?privateKeyFile=/nonexistent/id_ed25519",
  ];
  const r = await runGost([...args, "-O", "yaml"]);
  equal(r.code, 0, r.stderr);
  const cfg = yaml.load(r.stdout) as any;
  deepStrictEqual(cfg.services[0].listener.tls, {
    certFile: "/nonexistent/c.pem",
    keyFile: "/nonexistent/k.pem",
  });
  for (
    const f of ["c.pem", "k.pem", "host_key", "authorized_keys", "kcp.json", "ca.pem", "id_ed25519"]
  ) {
    match(
      r.stderr,
      new RegExp(`gost: warning: .*cannot read [a-z ]*"/nonexistent/${f.replace(".", "\\.")}"`),
      f,
    );
  }
  const start = await runGost(args);
  equal(start.code, 1, start.stderr);
  match(start.stderr, /invalid config:[^]*cannot read "\/nonexistent\/c\.pem"/);
  // Only unreadable files are tolerated: any other error still fails -O.
  const bad = await runGost([
    "-L",
    "https://:8443?certFile=/nonexistent/c.pem&keyFile=/nonexistent/k.pem",
    "-L",
    "http://:1?readTimeout=nope",
    "-O",
    "yaml",
  ]);
  equal(bad.code, 1, bad.stderr);
  match(bad.stderr, /invalid config:\n.*readTimeout/);
});

Deno.test("cli: -O with -C prints the normalised config (keys respelt, -L appended)", async () => {
  await withConfig(
    '{"Services": [{"Name": "a", "Addr": ":1", "Listener": {"Type": "tcp"}, "Handler": {"Type": "http"}}]}',
    async (path) => {
      const r = await runGost(["-C", path, "-L", "socks5://:1080", "-O", "yaml"]);
      equal(r.code, 0, r.stderr);
      const cfg = yaml.load(r.stdout) as any;
      deepStrictEqual(cfg.services[0], {
        name: "a",
        addr: ":1",
        handler: { type: "http" },
        listener: { type: "tcp" },
      });
      equal(cfg.services[1].handler.type, "socks5");
    },
    "json",
  );
});

Deno.test("cli: -C - reads the config from standard input", async () => {
  const r = await runGost(["-C", "-", "-O", "json"], { stdin: "services:\n  - name: x\n    addr: :9\n" });
  equal(r.code, 0, r.stderr);
  equal(JSON.parse(r.stdout).services[0].name, "x");
});

Deno.test("cli: -V prints the version", async () => {
  const r = await runGost(["-V"]);
  equal(r.code, 0);
  match(r.stdout, /^gost \d+\.\d+\.\d+ \(deno /);
});

Deno.test("cli: -h prints usage and exits 0", async () => {
  const r = await runGost(["-h"]);
  equal(r.code, 0);
  match(r.stderr, /Usage: gost/);
});

Deno.test("cli: an unknown flag exits 2 with the flag named and the usage", async () => {
  const r = await runGost(["-X", "1"]);
  equal(r.code, 2);
  match(r.stderr, /flag provided but not defined: -X/);
  match(r.stderr, /Usage: gost/);
  const r2 = await runGost(["-L"]);
  equal(r2.code, 2);
  match(r2.stderr, /flag needs an argument: -L/);
});

Deno.test("cli: -R warns, -api is printed by -O as gost prints it; -- groups are refused clearly", async () => {
  const r = await runGost(["-L", "http://:8080", "-api", ":18080", "-R", "5s", "-O", "yaml"]);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /^api:\n {2}addr: ":18080"$/m);
  match(r.stderr, /warning: -R 5s: automatic reload is not supported yet/);
  const g = await runGost(["-L", "http://:8080", "--", "-L", "http://:8081"]);
  equal(g.code, 2);
  match(g.stderr, /separated by "--" is not supported yet/);
});

Deno.test("cli: nothing to run is a usage error", async () => {
  const r = await runGost([], { cwd: "/" });
  equal(r.code, 2);
  match(r.stderr, /nothing to run/);
});

Deno.test("config: a bad log level names its line", async () => {
  const err = await invalid(
    `${
      SERVICE("tcp", "tcp", "    forwarder:\n      nodes:\n        - addr: 127.0.0.1:1\n")
    }log:\n  level: loud\n`,
  );
  match(err, /line 12: log\.level: unknown level "loud" \(allowed: fatal, error, warn, info, debug, trace\)/);
});

Deno.test("config: unknown options are warnings with their line; the service still starts", async () => {
  await withConfig(
    SERVICE(
      "tcp",
      "tcp",
      "      metadata:\n        bogus: 1\n    forwarder:\n      nodes:\n        - addr: 127.0.0.1:1\n",
    ),
    async (path) => {
      const g = await startGost(["-C", path]);
      try {
        match(g.stderr(), /line 9: services\[0\]\.listener\.metadata\.bogus: unknown option, ignored/);
      } finally {
        await g.stop();
      }
    },
  );
});

Deno.test("config: an option accepted without effect is one warning saying why; the service still starts", async () => {
  // The CLI copies a query key to the handler, listener and service metadata: told once.
  await using g = await startGost(["-L", `http://127.0.0.1:${freePort()}?hash=host`]);
  const told = g.stderr().match(
    /services\[0\]\.[a-z.]*hash: accepted for gost compatibility, no effect here: \S/g,
  );
  equal(told?.length, 1, g.stderr());
});

Deno.test("config: a section of the wrong type names its line", async () => {
  const err = await invalid("services:\n  - name: a\n    addr: :1\n    listener: tcp\nlog: debug\n");
  match(err, /line 4: services\[0\]\.listener: expected a mapping, got "tcp"/);
  match(err, /line 5: log: expected a mapping, got "debug"/);
});

Deno.test("config: a limiter is enforced now: an unreadable limit and an unknown name name their lines", async () => {
  const err = await invalid(`limiters:
  - name: l0
    limits:
      - "$ 100"
${SERVICE("http", "tcp").replace("    handler:", "    limiter: l1\n    handler:")}`);
  match(err, /line 4: limiters\[0\]\.limits\[0\]: invalid limit "\$ 100"/);
  match(err, /line 8: services\[0\]\.limiter: limiters entry "l1" does not exist \(defined: l0\)/);
  equal(/restricts access or traffic/.test(err), false, err);
});

Deno.test("config: an admission is enforced now: a malformed matcher and an unknown name name their lines", async () => {
  const err = await invalid(`admissions:
  - name: only-10
    whitelist: true
    matchers:
      - 10.9.9.9/40
${SERVICE("http", "tcp").replace("    handler:", "    admission: only-11\n    handler:")}`);
  match(err, /line 5: admissions\[0\]\.matchers\[0\]: invalid matcher "10\.9\.9\.9\/40": prefix length/);
  match(err, /line 9: services\[0\]\.admission: admission "only-11" does not exist \(defined: only-10\)/);
  equal(/restricts access or traffic/.test(err), false, err);
});

Deno.test("config: the CLI's ?bypass= and ?limiter.in= are enforced (-O prints them); a forwarder node's bypass is refused", async () => {
  const r = await runGost(["-L", "http://127.0.0.1:0?bypass=10.0.0.0/8&limiter.in=1MB", "-O", "yaml"]);
  equal(r.code, 0, r.stderr);
  doesNotMatch(r.stderr, /restricts access or traffic/);
  match(r.stdout, /bypasses:/);
  match(r.stdout, /limiters:/);
  const err = await invalid(
    `${
      SERVICE(
        "tcp",
        "tcp",
        "    forwarder:\n      nodes:\n        - addr: 127.0.0.1:1\n          bypass: b\n",
      )
    }bypasses:
  - name: b
    matchers: [10.0.0.0/8]
`,
  );
  match(err, /services\[0\]\.forwarder\.nodes\[0\]\.bypass: restricts access or traffic/);
});
