import assert from "node:assert/strict";
import { formatIPv6, joinHostPort, parseIPv6, splitHostPort, unmapHost } from "./addr.ts";

Deno.test("splitHostPort accepts host:port, :port and [v6]:port", () => {
  assert.deepEqual(splitHostPort("192.168.1.1:80"), { host: "192.168.1.1", port: 80 });
  assert.deepEqual(splitHostPort(":8080"), { host: "", port: 8080 });
  assert.deepEqual(splitHostPort("[::1]:53"), { host: "::1", port: 53 });
  assert.deepEqual(splitHostPort("example.com:443"), { host: "example.com", port: 443 });
});

Deno.test("splitHostPort names what is wrong", () => {
  assert.throws(() => splitHostPort("1.2.3.4"), /missing port/);
  assert.throws(() => splitHostPort("h:99999"), /out of range/);
  assert.throws(() => splitHostPort("h:8o"), /bad port "8o"/);
  assert.throws(() => splitHostPort("::1:80"), /IPv6 needs \[brackets\]/);
  assert.throws(() => splitHostPort("[::1:80"), /missing '\]'/);
});

Deno.test("IPv6 parse and format round trip", () => {
  for (const s of ["::1", "::", "2001:db8::1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8"]) {
    assert.equal(formatIPv6(parseIPv6(s)!), s);
  }
  assert.equal(formatIPv6(parseIPv6("::ffff:1.2.3.4")!), "::ffff:102:304");
  assert.equal(parseIPv6("1::2::3"), null);
  assert.equal(parseIPv6("12345::"), null);
});

Deno.test("joinHostPort brackets v6 and unmapHost strips v4-mapped prefixes", () => {
  assert.equal(joinHostPort("::1", 80), "[::1]:80");
  assert.equal(joinHostPort("a.b", 1), "a.b:1");
  assert.equal(unmapHost("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(unmapHost("::1"), "::1");
});
