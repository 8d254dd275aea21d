import assert from "node:assert/strict";
import { createBlockCrypt, deriveKey } from "./crypt.ts";
import { KcpSession, type SessionConfig } from "./session.ts";

const AES = await createBlockCrypt("aes", await deriveKey(""));

export const testConfig = (over: Partial<SessionConfig> = {}): SessionConfig => ({
  crypt: AES,
  dataShards: 10,
  parityShards: 3,
  mtu: 1350,
  // Both ends share one thread here: a smaller window keeps the link's queue short.
  sndWnd: 128,
  rcvWnd: 128,
  nodelay: 0,
  interval: 30,
  resend: 2,
  nc: 1,
  ackNoDelay: false,
  pacing: true,
  ...over,
});

/** Two sessions joined by an in-memory link; `drop(dir, n)` decides each datagram's fate. */
function pair(cfg: SessionConfig, drop: (dir: "ab" | "ba", n: number) => boolean = () => false) {
  const conv = 0x12345678;
  const counts = { ab: 0, ba: 0 };
  // deno-lint-ignore prefer-const
  let a: KcpSession, b: KcpSession;
  const link = (dir: "ab" | "ba") => (pkt: Uint8Array) => {
    if (drop(dir, counts[dir]++)) return;
    // Deliver asynchronously, as a socket would (the copy stands for the wire).
    const copy = pkt.slice();
    setTimeout(() => (dir === "ab" ? b : a).input(copy), 1);
  };
  a = new KcpSession(conv, cfg, link("ab"));
  b = new KcpSession(conv, cfg, link("ba"));
  return { a, b, counts };
}

async function transfer(a: KcpSession, b: KcpSession, size: number): Promise<void> {
  const data = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
  const writer = a.writable.getWriter();
  const sending = (async () => {
    for (let off = 0; off < size; off += data.length) {
      await writer.write(data.subarray(0, Math.min(data.length, size - off)));
    }
  })();
  const reader = b.readable.getReader();
  let got = 0;
  while (got < size) {
    const { value } = await reader.read();
    assert.ok(value);
    for (let i = 0; i < value.length; i += 997) {
      assert.equal(value[i], data[(got + i) % data.length], `byte ${got + i}`);
    }
    got += value.length;
  }
  assert.equal(got, size);
  await sending;
  writer.releaseLock();
  reader.releaseLock();
}

Deno.test("kcp session: 2 MiB both ways over a clean link, every cipher path", async () => {
  for (const crypt of ["aes", "none"] as const) {
    const { a, b } = pair(testConfig({ crypt: await createBlockCrypt(crypt, await deriveKey("x")) }));
    await Promise.all([transfer(a, b, 2 << 20), transfer(b, a, 1 << 20)]);
    assert.equal(a.arq.stats.retransSegs, 0);
    a.close();
    b.close();
  }
});

Deno.test("kcp session: FEC rebuilds sparse losses, (almost) without retransmission", async () => {
  // Lose one datagram in 40 from a to b: at most one per FEC group of 13.
  const { a, b } = pair(testConfig(), (dir, n) => dir === "ab" && n % 40 === 17);
  await transfer(a, b, 1 << 20);
  // Lost data shards are rebuilt from parity, so nothing waits for a retransmission timeout.
  assert.ok(b.stats.fecRecovered > 5, `recovered ${b.stats.fecRecovered}`);
  // Real timers: on a loaded machine (CI, parallel tests) a late tick can let one RTO expire before
  // the group's parity arrives; a handful, against dozens of rebuilt shards, still means FEC repaired.
  assert.ok(a.arq.stats.lostSegs * 10 <= b.stats.fecRecovered, JSON.stringify(a.arq.stats));
  // A timer tick may send acks in the middle of a group and trigger a spurious fast retransmit
  // now and then (kcp-go behaves the same); those stay a small fraction of the repairs.
  assert.ok(
    a.arq.stats.retransSegs * 3 <= b.stats.fecRecovered,
    JSON.stringify({ ...a.arq.stats, fec: b.stats.fecRecovered }),
  );
  a.close();
  b.close();
});

Deno.test("kcp session: datagrams are lent and received through one reused buffer, losses included", async () => {
  // As the listener runs it: every datagram goes through the same receive buffer, so a session
  // that kept a view of one instead of a copy would see its bytes overwritten by the next. The
  // sender's buffer is lent too: holding it past the call (no copy here) would corrupt the wire.
  const conv = 7;
  const cfg = testConfig();
  // deno-lint-ignore prefer-const
  let a: KcpSession, b: KcpSession;
  const queues = { ab: [] as Uint8Array[], ba: [] as Uint8Array[] };
  const shared = new Uint8Array(1536);
  let n = 0, scheduled = false;
  const deliver = () => {
    scheduled = false;
    for (const dir of ["ab", "ba"] as const) {
      for (const pkt of queues[dir].splice(0)) {
        shared.set(pkt);
        (dir === "ab" ? b : a).input(shared.subarray(0, pkt.length));
        shared.fill(0xee); // what a next datagram would leave behind
      }
    }
  };
  const link = (dir: "ab" | "ba") => (pkt: Uint8Array) => {
    if (dir === "ab" && n++ % 29 === 11) return; // sparse losses: FEC rebuilds them
    queues[dir].push(pkt.slice()); // the wire's copy, taken during the call
    if (!scheduled) scheduled = true, setTimeout(deliver, 1);
  };
  a = new KcpSession(conv, cfg, link("ab"));
  b = new KcpSession(conv, cfg, link("ba"));
  await Promise.all([transfer(a, b, 1 << 20), transfer(b, a, 256 << 10)]);
  assert.ok(b.stats.fecRecovered > 0);
  a.close();
  b.close();
});

Deno.test("kcp session: without FEC, losses are repaired by retransmission", async () => {
  const { a, b } = pair(testConfig({ dataShards: 0, parityShards: 0 }), (_dir, n) => n % 23 === 5);
  await transfer(a, b, 1 << 20);
  assert.ok(a.arq.stats.retransSegs > 0);
  a.close();
  b.close();
});

Deno.test("kcp session: garbage, short and foreign-key datagrams are counted and dropped", () => {
  const s = new KcpSession(1, testConfig(), () => {});
  for (let i = 0; i < 1000; i++) {
    assert.equal(s.input(crypto.getRandomValues(new Uint8Array(i % 60))), false);
  }
  assert.equal(s.stats.checksumErrors, 1000);
  assert.equal(s.arq.rcvBuf.length, 0);
  s.close();
});

Deno.test("kcp session: a peer that never answers is declared dead", async () => {
  const s = new KcpSession(1, testConfig({ nodelay: 1, interval: 10 }), () => {});
  s.arq.deadLink = 3;
  s.arq.rxMinrto = 10;
  const w = s.writable.getWriter();
  await w.write(new Uint8Array([1, 2, 3]));
  const r = s.readable.getReader();
  await assert.rejects(r.read(), /dead link/);
  assert.ok(s.closed);
});

Deno.test("kcp session: direct reads into small buffers split segments and keep every byte in order", async () => {
  const { a, b } = pair(testConfig());
  try {
    const data = new Uint8Array(300_000).map((_, i) => (i * 7919) >> 3);
    const sending = (async () => {
      for (let off = 0; off < data.length; off += 40_000) {
        await a.direct.write(data.subarray(off, Math.min(data.length, off + 40_000)));
      }
    })();
    const got = new Uint8Array(data.length);
    let n = 0, reads = 0;
    while (n < data.length) {
      // 1000 bytes is less than one segment (1298 here): most reads leave a remainder behind.
      const r = await b.direct.read(got.subarray(n, Math.min(data.length, n + 1000)));
      assert.ok(r !== null && r > 0);
      n += r;
      reads++;
    }
    await sending;
    assert.ok(reads >= 300);
    assert.deepEqual(got, data);
    b.close();
    assert.equal(await b.direct.read(new Uint8Array(10)), null);
  } finally {
    a.close();
    b.close();
  }
});

/**
 * Two sessions joined by a link whose receiving end behaves like a small socket buffer: at most
 * `room` datagrams wait, `perMs` are taken each millisecond, the rest are dropped.
 */
function bufferedPair(cfg: SessionConfig, room: number, perMs: number) {
  const conv = 0x2468;
  const queues = { ab: [] as Uint8Array[], ba: [] as Uint8Array[] };
  const dropped = { ab: 0, ba: 0 };
  // deno-lint-ignore prefer-const
  let a: KcpSession, b: KcpSession;
  const link = (dir: "ab" | "ba") => (pkt: Uint8Array) => {
    if (queues[dir].length >= room) dropped[dir]++;
    else queues[dir].push(pkt.slice());
  };
  a = new KcpSession(conv, cfg, link("ab"));
  b = new KcpSession(conv, cfg, link("ba"));
  // Timers fire every few ms under load: drain by the time that really passed.
  let last = performance.now(), credit = 0;
  const drain = setInterval(() => {
    const now = performance.now();
    credit = Math.min(room, credit + (now - last) * perMs);
    last = now;
    const n = Math.floor(credit);
    credit -= n;
    for (const pkt of queues.ab.splice(0, n)) b.input(pkt);
    for (const pkt of queues.ba.splice(0, n)) a.input(pkt);
  }, 1);
  return { a, b, dropped, stop: () => clearInterval(drain) };
}

Deno.test("kcp session: pacing keeps bursts within a small receive buffer that an unpaced sender overflows", async () => {
  const results: Record<string, { dropped: number; retrans: number }> = {};
  for (const pacing of [false, true]) {
    // The window (512) is far larger than the receiver's buffer (60 datagrams): unpaced, every
    // ack that frees the window releases a burst the buffer cannot hold.
    const { a, b, dropped, stop } = bufferedPair(testConfig({ sndWnd: 512, rcvWnd: 512, pacing }), 100, 24);
    await transfer(a, b, 3 << 20);
    results[String(pacing)] = { dropped: dropped.ab, retrans: a.arq.stats.retransSegs };
    stop();
    a.close();
    b.close();
  }
  const msg = JSON.stringify(results);
  assert.ok(results.false.dropped > 200, `the unpaced sender overflows the buffer: ${msg}`);
  assert.ok(results.true.dropped * 2 < results.false.dropped, msg);
  assert.ok(results.true.retrans * 2 < results.false.retrans, msg);
});
