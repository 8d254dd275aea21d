import assert from "node:assert/strict";
import {
  addrKey,
  canFindSockets,
  noDelayOf,
  setConnectedOptions,
  setListenerOptions,
  shutdownSockets,
} from "./socket_fds.ts";
import { IN_CI, tcpPair } from "../../tests/_helpers.ts";

function test(name: string, fn: () => Promise<void> | void) {
  const can = canFindSockets();
  if (!can && !IN_CI) console.warn(`SKIP ${name}: needs Linux and libc through FFI`);
  Deno.test({ name, ignore: !can && !IN_CI, fn });
}

const pairOf = (c: Deno.Conn) => addrKey(c.localAddr) + "|" + addrKey(c.remoteAddr);

Deno.test("socket_fds: an IPv4 address and its IPv4-mapped IPv6 form have one key; others differ", () => {
  const v4 = addrKey({ transport: "tcp", hostname: "127.0.0.1", port: 80 });
  assert.equal(v4, addrKey({ transport: "tcp", hostname: "::ffff:127.0.0.1", port: 80 }));
  assert.notEqual(v4, addrKey({ transport: "tcp", hostname: "127.0.0.1", port: 81 }));
  assert.notEqual(v4, addrKey({ transport: "tcp", hostname: "::1", port: 80 }));
  assert.equal(addrKey({ transport: "udp", hostname: "127.0.0.1", port: 80 }), null);
  assert.equal(addrKey({ transport: "tcp", hostname: "not-an-ip", port: 80 }), null);
});

test("socket_fds: shutdownSockets ends exactly the socket of the pair asked for", async () => {
  const [a1, b1] = await tcpPair();
  const [a2, b2] = await tcpPair();
  try {
    const pairs = new Set([pairOf(b1), "1.2.3.4|5.6.7.8"]);
    assert.equal(shutdownSockets(pairs), 1);
    assert.deepEqual([...pairs], ["1.2.3.4|5.6.7.8"], "the pair found is taken out of the set");
    assert.equal(await a1.read(new Uint8Array(1)), null, "the peer of the socket shut down reads its end");
    // The other connection, same listener address, is untouched.
    await a2.write(new Uint8Array([7]));
    const buf = new Uint8Array(1);
    assert.equal(await b2.read(buf), 1);
    assert.equal(buf[0], 7);
  } finally {
    for (const c of [a1, b1, a2, b2]) c.close();
  }
});

test("socket_fds: setListenerOptions finds a listening socket by its address, only that one", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.equal(setListenerOptions(l.addr, { noDelay: true, keepAlive: true }), true);
    const port = (l.addr as Deno.NetAddr).port;
    // A port nothing of this process listens on (the next one may be taken by another process).
    const other: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.2", port };
    assert.equal(setListenerOptions(other, { noDelay: true, keepAlive: false }), false);
  } finally {
    l.close();
  }
});

test("socket_fds: a connected socket found by its two addresses gets TCP_NODELAY; an unknown pair is not found", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
  const accepted = await l.accept();
  try {
    // Deno's accept leaves Nagle on (Deno.listen sets no TCP_NODELAY on what it accepts).
    assert.equal(noDelayOf(accepted.localAddr, accepted.remoteAddr), false);
    assert.equal(
      setConnectedOptions(accepted.localAddr, accepted.remoteAddr, { noDelay: true, keepAlive: true }),
      true,
    );
    assert.equal(noDelayOf(accepted.localAddr, accepted.remoteAddr), true);
    const nobody: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 9 };
    assert.equal(setConnectedOptions(accepted.localAddr, nobody, { noDelay: true, keepAlive: false }), false);
    assert.equal(noDelayOf(accepted.localAddr, nobody), null);
  } finally {
    accepted.close();
    client.close();
    l.close();
  }
});
