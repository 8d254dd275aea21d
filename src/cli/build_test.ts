import { deepStrictEqual, equal, match, throws } from "node:assert/strict";
import { buildConfigFromArgs, expandPortRange } from "./build.ts";
import { URLError } from "./url.ts";

const build = (L: string[], F: string[] = []) => buildConfigFromArgs(L, F).config;

Deno.test("build: port range many-to-many makes one service per port with one target each", () => {
  const cfg = build(["tcp://:8000-8002/10.0.0.1:9000-9002"]);
  deepStrictEqual(cfg.services!.map((s) => [s.name, s.addr, s.forwarder?.nodes?.map((n) => n.addr)]), [
    ["service-0", ":8000", ["10.0.0.1:9000"]],
    ["service-1", ":8001", ["10.0.0.1:9001"]],
    ["service-2", ":8002", ["10.0.0.1:9002"]],
  ]);
});

Deno.test("build: port range many-to-one shares the single target", () => {
  const cfg = build(["tcp://:8000-8001/10.0.0.1:80"]);
  deepStrictEqual(cfg.services!.map((s) => s.forwarder?.nodes?.[0].addr), ["10.0.0.1:80", "10.0.0.1:80"]);
});

Deno.test("build: expandPortRange", () => {
  deepStrictEqual(expandPortRange("[::1]:80-81"), ["[::1]:80", "[::1]:81"]);
  deepStrictEqual(expandPortRange("h:80"), ["h:80"]);
  throws(() => expandPortRange("h:90-80"), /reversed/);
  throws(() => expandPortRange("h:80-70000"), /out of range/);
  throws(() => expandPortRange("h:8a"), /bad port "8a"/);
});

Deno.test("build: ?auth=base64(user:pass) and SIP002 userinfo for ss", () => {
  const auth = btoa("alice:s3cret");
  equal(build([`http://:8080?auth=${auth}`]).services![0].handler.auth?.password, "s3cret");
  deepStrictEqual(
    build(["ss://" + btoa("aes-128-gcm:pw").replace(/=+$/, "") + "@:8338"]).services![0].handler.auth,
    {
      username: "aes-128-gcm",
      password: "pw",
    },
  );
  // A userinfo wins over ?auth=, and auth never stays in metadata.
  const svc = build([`http://u:p@:8080?auth=${auth}`]).services![0];
  deepStrictEqual(svc.handler.auth, { username: "u", password: "p" });
  equal(svc.handler.metadata, undefined);
  throws(() => build(["http://:8080?auth=***"]), /auth=\*\*\*: expected base64/);
});

Deno.test("build: listener TLS files, node TLS keys and serverName", () => {
  const svc = build(["relay+tls://:8443?certFile=c.pem&key=k.pem&ca=ca.pem"]).services![0];
  deepStrictEqual(svc.listener.tls, { certFile: "c.pem", keyFile: "k.pem", caFile: "ca.pem" });
  equal(svc.listener.metadata, undefined);
  // keyFile without certFile: no TLS block (as gost)
  equal(build(["relay+tls://:8443?keyFile=k.pem"]).services![0].listener.tls, undefined);

  const node =
    build([":8080"], ["relay+tls://example.com:8443?secure=true&serverName=sni.example"]).chains![0]
      .hops[0].nodes[0];
  deepStrictEqual(node.dialer.tls, { secure: true, serverName: "sni.example" });
  equal(node.metadata, undefined);
  equal(node.connector.metadata, undefined);
});

Deno.test("build: several hosts in one -F make one hop of several nodes, each with its own serverName", () => {
  const hop = build([":8080"], ["socks5://h1:1080,h2:1081?strategy=rand"]).chains![0].hops[0];
  deepStrictEqual(hop.selector, { strategy: "rand", maxFails: 1, failTimeout: "30s" });
  deepStrictEqual(hop.nodes.map((n) => [n.name, n.addr, n.dialer.tls?.serverName]), [
    ["node-0", "h1:1080", "h1"],
    ["node-1", "h2:1081", "h2"],
  ]);
});

Deno.test("build: -F a -F b makes one chain of two hops", () => {
  const cfg = build(["http://:8080"], ["socks5://a:1080", "relay://b:8420"]);
  deepStrictEqual(cfg.chains!.map((c) => [c.name, c.hops.map((h) => [h.name, h.nodes[0].connector.type])]), [
    ["chain-0", [["hop-0", "socks5"], ["hop-1", "relay"]]],
  ]);
});

Deno.test("build: metadata prefixes route keys to one component", () => {
  const svc = build(["http://:8080?handler.a=1&listener.b=2&service.c=3&d=4"]).services![0];
  deepStrictEqual(svc.handler.metadata, { a: "1", d: "4" });
  deepStrictEqual(svc.listener.metadata, { b: "2", d: "4" });
  deepStrictEqual(svc.metadata, { c: "3", d: "4" });
  const hop = build([":1"], ["relay://h:1?connector.a=1&dialer.b=2&node.c=3&hop.e=5&d=4"]).chains![0].hops[0];
  deepStrictEqual(hop.metadata, { e: "5", d: "4" });
  deepStrictEqual(hop.nodes[0].connector.metadata, { a: "1", d: "4" });
  deepStrictEqual(hop.nodes[0].dialer.metadata, { b: "2", d: "4" });
  deepStrictEqual(hop.nodes[0].metadata, { c: "3", d: "4" });
});

Deno.test("build: special service keys become top-level components", () => {
  const cfg = build([
    "http://:8080?bypass=~10.0.0.0/8,.example.com&admission=127.0.0.1&resolver=1.1.1.1&hosts=a.b:1.2.3.4" +
    "&limiter.in=1MB&limiter.conn.out=2MB&climiter=10&rlimiter=5&retries=3&interface=eth0",
  ]);
  const svc = cfg.services![0];
  equal(svc.bypass, "bypass-0");
  equal(svc.admission, "admission-0");
  equal(svc.resolver, "resolver-0");
  equal(svc.hosts, "hosts-0");
  equal(svc.limiter, "limiter-0");
  equal(svc.climiter, "climiter-0");
  equal(svc.rlimiter, "rlimiter-0");
  equal(svc.handler.retries, 3);
  deepStrictEqual(cfg.bypasses, [{
    name: "bypass-0",
    whitelist: true,
    matchers: ["10.0.0.0/8", ".example.com"],
  }]);
  deepStrictEqual(cfg.admissions, [{ name: "admission-0", matchers: ["127.0.0.1"] }]);
  deepStrictEqual(cfg.resolvers, [{ name: "resolver-0", nameservers: [{ addr: "1.1.1.1" }] }]);
  deepStrictEqual(cfg.hosts, [{ name: "hosts-0", mappings: [{ ip: "1.2.3.4", hostname: "a.b" }] }]);
  deepStrictEqual(cfg.limiters, [{ name: "limiter-0", limits: ["$ 1MB ", "$$  2MB"] }]);
  deepStrictEqual(cfg.climiters, [{ name: "climiter-0", limits: ["$ 10"] }]);
  deepStrictEqual(cfg.rlimiters, [{ name: "rlimiter-0", limits: ["$ 5"] }]);
  // gost removes them from the handler's metadata only.
  equal(svc.handler.metadata, undefined);
  equal(svc.listener.metadata?.bypass, "~10.0.0.0/8,.example.com");
  equal(svc.metadata?.interface, "eth0");
});

Deno.test("build: scheme fallbacks use gost's registered names", () => {
  const types = (L: string) => {
    const s = build([L]).services![0];
    return `${s.handler.type}+${s.listener.type}`;
  };
  equal(types("tls://:443"), "auto+tls");
  equal(types("tls://:443/:80"), "forward+tls");
  equal(types("kcp://:8388/:80"), "forward+kcp");
  equal(types("ws://:80"), "auto+ws");
  equal(types("socks5://:1080"), "socks5+tcp");
  equal(types("ssu://:8338"), "ssu+udp");
  equal(types("https://:443"), "http+tls");
  equal(types("relay+wss://:8420/:80"), "relay+wss");
  const node = (F: string) => {
    const n = build([":1"], [F]).chains![0].hops[0].nodes[0];
    return `${n.connector.type}+${n.dialer.type}`;
  };
  equal(node("kcp://h:1"), "http+kcp");
  equal(node("tls://h:1"), "http+tls");
  equal(node("ssu://h:1"), "ssu+udp");
  equal(node("https://h:1"), "http+tls");
});

Deno.test("build: an unknown scheme name is a warning, as gost falls back to auto+tcp", () => {
  const { config, warnings } = buildConfigFromArgs(["htp://:8080"], []);
  equal(config.services![0].handler.type, "auto");
  equal(warnings.length, 1);
  match(warnings[0], /"htp" names no known handler or listener/);
});

Deno.test("build: malformed arguments name the bad part", () => {
  const cases: [string[], string[], RegExp][] = [
    [["tcp://:80x"], [], /bad port "80x"/],
    [["tcp://:8080/10.0.0.1"], [], /target invalid address "10.0.0.1": missing port/],
    [["tcp://:8080/10.0.0.1:99999"], [], /target port out of range/],
    [["http://"], [], /missing listen address/],
    [["a+b+c://:80"], [], /bad scheme "a\+b\+c"/],
    [[":80"], ["socks5://"], /missing node address/],
    [[":80"], ["socks5://h"], /missing port/],
    [[":80"], ["socks5://h:1?maxFails=x"], /maxFails=x: expected an integer/],
    [[":80"], ["socks5://h:1?failTimeout=soon"], /failTimeout=soon: expected a duration/],
  ];
  for (const [L, F, re] of cases) {
    throws(
      () => build(L, F),
      (e: Error) => e instanceof URLError && re.test(e.message),
      [...L, ...F].join(" "),
    );
  }
});

Deno.test("build: IPv6 listen addresses, targets and nodes", () => {
  const cfg = build(["tcp://[::1]:8000-8001/[::1]:9000"], ["relay://[::1]:8420"]);
  deepStrictEqual(cfg.services!.map((s) => [s.addr, s.forwarder?.nodes?.[0].addr]), [
    ["[::1]:8000", "[::1]:9000"],
    ["[::1]:8001", "[::1]:9000"],
  ]);
  const node = cfg.chains![0].hops[0].nodes[0];
  equal(node.addr, "[::1]:8420");
  equal(node.dialer.tls?.serverName, "::1");
});

Deno.test("build: empty -L arguments are skipped and service names count across -L", () => {
  const cfg = build([" ", "tcp://:1-2/:3", "http://:4"]);
  deepStrictEqual(cfg.services!.map((s) => s.name), ["service-0", "service-1", "service-2"]);
});

Deno.test("build: ?resolver= and ?hosts= as gost's cmd.go: a service's nameservers take ?prefer=, a hop's do not", () => {
  const cfg = build(
    ["http://:8080?resolver=1.1.1.1,,tls://8.8.8.8:853&prefer=ipv6&hosts=a.b:::1,bad,c.d:10.0.0.1"],
    ["http://h:1?resolver=tcp://9.9.9.9&prefer=ipv6&hosts=h:127.0.0.1"],
  );
  deepStrictEqual(cfg.resolvers, [
    { name: "resolver-0", nameservers: [{ addr: "tcp://9.9.9.9" }] },
    {
      name: "resolver-1",
      nameservers: [{ addr: "1.1.1.1", prefer: "ipv6" }, { addr: "tls://8.8.8.8:853", prefer: "ipv6" }],
    },
  ]);
  deepStrictEqual(cfg.hosts, [
    { name: "hosts-0", mappings: [{ ip: "127.0.0.1", hostname: "h" }] },
    { name: "hosts-1", mappings: [{ ip: "::1", hostname: "a.b" }, { ip: "10.0.0.1", hostname: "c.d" }] },
  ]);
  equal(cfg.chains![0].hops[0].resolver, "resolver-0");
  equal(cfg.chains![0].hops[0].hosts, "hosts-0");
  equal(cfg.services![0].resolver, "resolver-1");
});
