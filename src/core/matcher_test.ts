import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { AddressMatcher, MatcherError, parseIP, parseIPv4, parsePattern } from "./matcher.ts";

const m = (...patterns: string[]) => {
  const { matcher, errors } = AddressMatcher.parse(patterns);
  deepStrictEqual(errors, []);
  return matcher;
};

Deno.test("matcher: IPv4 parsing without allocation", () => {
  strictEqual(parseIPv4("10.1.2.3"), 0x0a010203);
  strictEqual(parseIPv4("255.255.255.255"), 0xffffffff);
  for (const bad of ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ", ""]) {
    strictEqual(parseIPv4(bad), -1, bad);
  }
  deepStrictEqual(parseIP("::ffff:10.0.0.1"), { v: 4, n: 0x0a000001 });
  deepStrictEqual(parseIP("::1"), { v: 6, n: 1n });
  strictEqual(parseIP("example.com"), null);
});

Deno.test("matcher: IPv4 and IPv6 addresses", () => {
  const x = m("10.9.9.9", "::1", "2001:DB8::5");
  ok(x.match("10.9.9.9"));
  ok(!x.match("10.9.9.8"));
  ok(x.match("::1"));
  ok(x.match("0:0:0:0:0:0:0:1"), "another spelling of ::1");
  ok(x.match("2001:db8:0::5"));
  ok(x.match("::ffff:10.9.9.9"), "IPv4-mapped IPv6 is the IPv4 address");
  ok(x.matchAddr("10.9.9.9:80"));
  ok(x.matchAddr("[::1]:443"));
  ok(!x.matchAddr("[::2]:443"));
});

Deno.test("matcher: CIDR v4 and v6, host bits ignored", () => {
  const x = m("10.0.0.0/8", "192.168.1.77/24", "2001:db8::/32", "0.0.0.0/32");
  ok(x.match("10.255.1.2"));
  ok(x.match("192.168.1.1"));
  ok(!x.match("192.168.2.1"));
  ok(x.match("2001:db8:ffff::1"));
  ok(!x.match("2001:db9::1"));
  ok(x.match("0.0.0.0"));
  ok(!x.match("11.0.0.1"));
  ok(m("0.0.0.0/0").match("8.8.8.8"));
  ok(!m("0.0.0.0/0").match("::1"), "an IPv4 network holds no IPv6 address");
  ok(m("::/0").match("::1"));
});

Deno.test("matcher: IP ranges as gost writes them, merged and searched", () => {
  const x = m(
    "192.168.1.1-192.168.1.100",
    "192.168.1.50-192.168.1.150",
    "10.0.0.5-10.0.0.5",
    "fe80::1-fe80::ff",
  );
  ok(x.match("192.168.1.1"));
  ok(x.match("192.168.1.120"));
  ok(x.match("192.168.1.150"));
  ok(!x.match("192.168.1.151"));
  ok(!x.match("192.168.1.0"));
  ok(x.match("10.0.0.5"));
  ok(!x.match("10.0.0.6"));
  ok(x.match("fe80::80"));
  ok(!x.match("fe80::100"));
});

Deno.test("matcher: exact names, .domain and *.domain", () => {
  const x = m("example.com", ".example.org", "*.example.net");
  ok(x.match("example.com"));
  ok(x.match("EXAMPLE.com."), "case and the root dot do not matter");
  ok(!x.match("www.example.com"), "an exact name does not cover its subdomains");
  ok(x.match("example.org"), ".example.org covers the domain itself");
  ok(x.match("a.b.example.org"));
  ok(!x.match("badexample.org"));
  ok(!x.match("example.net"), "*.example.net covers subdomains only");
  ok(x.match("www.example.net"));
  ok(x.match("a.b.example.net"));
  ok(!x.match("127.0.0.1"));
  ok(!m("127.0.0.1").match("localhost"), "a name is not resolved before matching");
});

Deno.test("matcher: globs", () => {
  const x = m("www.*.com", "host-??", "192.168.1.*");
  ok(x.match("www.foo.com"));
  ok(x.match("www.a.b.com"));
  ok(!x.match("ww.foo.com"));
  ok(x.match("host-12"));
  ok(!x.match("host-123"));
  ok(x.match("192.168.1.9"), "a glob also applies to IP literals");
});

Deno.test("matcher: ports and port ranges on every kind", () => {
  const x = m(
    "example.com:443",
    ".example.org:8000-8080",
    "*.example.net:80",
    "10.0.0.1:22",
    "10.1.0.0/16:53",
    "[::1]:8443",
    "192.168.0.1-192.168.0.9:7000",
    "any.com:0-65535",
  );
  ok(x.matchAddr("example.com:443"));
  ok(!x.matchAddr("example.com:80"));
  ok(!x.match("example.com"), "an entry with a port never matches a query without one");
  ok(x.matchAddr("a.example.org:8080"));
  ok(!x.matchAddr("a.example.org:8081"));
  ok(x.matchAddr("w.example.net:80"));
  ok(x.matchAddr("10.0.0.1:22"));
  ok(!x.matchAddr("10.0.0.1:23"));
  ok(x.matchAddr("10.1.2.3:53"));
  ok(!x.matchAddr("10.1.2.3:54"));
  ok(x.matchAddr("[::1]:8443"));
  ok(!x.matchAddr("[::1]:8444"));
  ok(x.matchAddr("192.168.0.5:7000"));
  ok(!x.matchAddr("192.168.0.5:7001"));
  ok(x.match("any.com"), ":0-65535 is every port");
  // The same host with and without a port: the union applies.
  const y = m("example.com:80", "example.com:443");
  ok(y.matchAddr("example.com:80") && y.matchAddr("example.com:443") && !y.matchAddr("example.com:8080"));
});

Deno.test("matcher: malformed patterns are errors naming the pattern", () => {
  for (
    const bad of [
      "",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/x",
      "host/8",
      "10.0.0.9-10.0.0.1",
      "10.0.0.1-::1",
      "10.0.0.1-foo",
      "example.com:99999",
      "example.com:http",
      "example.com:90-80",
      "exa mple.com",
      "[::1",
      "[::1]80",
      "a/b/c",
      "ex{a,b}.com",
    ]
  ) {
    throws(() => parsePattern(bad), MatcherError, JSON.stringify(bad));
  }
  const { errors } = AddressMatcher.parse(["10.0.0.1", "10.0.0.0/40", "ok.com"]);
  deepStrictEqual(errors.map((e) => e.index), [1]);
  ok(errors[0].message.includes("10.0.0.0/40"));
});

Deno.test("matcher: 10,000 entries of each kind stay fast", () => {
  const patterns: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    patterns.push(`10.${(i >> 8) & 255}.${i & 255}.1`, `h${i}.example.com`, `.d${i}.org`, `*.s${i}.net`);
    patterns.push(
      `172.${16 + (i % 16)}.${i & 255}.0/24`,
      `11.${i >> 8}.${i & 255}.10-11.${i >> 8}.${i & 255}.20`,
    );
  }
  const x = m(...patterns);
  strictEqual(x.size, 60_000);
  ok(x.match("10.0.5.1") && x.match("h9999.example.com") && x.match("a.d77.org") && x.match("b.s5.net"));
  ok(x.match("172.20.4.99") && x.match("11.1.2.15") && !x.match("11.1.2.21"));
  const t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < 100_000; i++) {
    if (x.match(i & 1 ? "www.nothing.example.com" : "8.8.4.4", 443)) hits++;
  }
  const perLookup = (performance.now() - t0) / 100_000;
  strictEqual(hits, 0);
  // A linear scan over 60,000 entries would take tens of microseconds per lookup.
  ok(perLookup < 0.02, `lookup took ${perLookup * 1000} µs`);
});
