import assert from "node:assert/strict";
import { sockaddrOf, syncSender } from "./udp_send.ts";

Deno.test("kcp udp send: sockaddrs for IPv4 and IPv6, null for names and bad ports", () => {
  const v4 = sockaddrOf({ transport: "udp", hostname: "127.0.0.1", port: 0x1234 })!;
  assert.deepEqual([...v4.subarray(0, 8)], [2, 0, 0x12, 0x34, 127, 0, 0, 1]);
  const v6 = sockaddrOf({ transport: "udp", hostname: "::1", port: 80 })!;
  assert.equal(v6.length, 28);
  assert.deepEqual([...v6.subarray(0, 4)], [10, 0, 0, 80]);
  assert.equal(v6[23], 1);
  assert.equal(sockaddrOf({ transport: "udp", hostname: "localhost", port: 80 }), null);
  assert.equal(sockaddrOf({ transport: "udp", hostname: "1.2.3.256", port: 80 }), null);
  assert.equal(sockaddrOf({ transport: "udp", hostname: "fe80::1%eth0", port: 80 }), null);
  assert.equal(sockaddrOf({ transport: "udp", hostname: "127.0.0.1", port: 0 }), null);
});

Deno.test("kcp udp send: a datagram sent synchronously arrives, and the buffer is free at once", async () => {
  const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const b = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const s = syncSender(a);
    assert.ok(s, "libc did not load (tests run with -A)");
    const to = s.address(b.addr as Deno.NetAddr)!;
    const buf = new TextEncoder().encode("first datagram");
    assert.ok(s.send(buf, to));
    buf.fill(0x21); // the kernel already has its copy
    const [got, from] = await b.receive();
    assert.equal(new TextDecoder().decode(got), "first datagram");
    assert.equal((from as Deno.NetAddr).port, (a.addr as Deno.NetAddr).port);
    s.close();
    assert.equal(s.send(buf, to), false, "a closed sender sends nothing");
  } finally {
    a.close();
    b.close();
  }
});
