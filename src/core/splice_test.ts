import assert from "node:assert/strict";
import { relay } from "./relay.ts";
import { socketDuplex } from "./socket.ts";
import { canSplice, spliceCounts, spliceIdle } from "./splice.ts";
import { IN_CI, tcpPair as socketPair } from "../../tests/_helpers.ts";

/** Splicing needs Linux and the C library through FFI: skipped elsewhere locally, required in CI. */
const can = await canSplice();

function spliceTest(name: string, fn: () => Promise<void>): void {
  if (!can && !IN_CI) console.warn(`SKIP ${name}: splice needs Linux and libc through FFI`);
  Deno.test({
    name,
    ignore: !can && !IN_CI,
    fn: async () => {
      assert.ok(
        can,
        "splice is not available (Linux, libc at a path of NATIVE_LIBRARIES, Deno's TCP binding)",
      );
      await fn();
      await spliceIdle(); // no wait outlives the test
    },
  });
}

/** Open sockets and pipes (the thread's epoll set and wake-up counter stay for the next copies). */
function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
    try {
      return /^(socket|pipe):/.test(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      return false; // the directory's own descriptor, gone by now
    }
  }).length;
}

async function writeAll(c: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await c.write(data.subarray(off));
}

/** Reads to the end; returns the bytes' length and a checksum (the payloads are megabytes). */
async function drain(c: Deno.Conn): Promise<{ n: number; sum: number }> {
  const buf = new Uint8Array(1 << 16);
  let n = 0, sum = 0;
  for (;;) {
    const r = await c.read(buf).catch(() => null);
    if (r === null) return { n, sum };
    for (let i = 0; i < r; i++) sum = (sum * 31 + buf[i]) >>> 0;
    n += r;
  }
}

/** A client and a target with a relay between them (the relay's own two sockets in the middle). */
async function relayed(opts: Parameters<typeof relay>[2] = {}) {
  const [client, clientSide] = await socketPair();
  const [targetSide, target] = await socketPair();
  return { client, target, done: relay(socketDuplex(clientSide), socketDuplex(targetSide), opts) };
}

/** Writes to `c` until a write fails (the relay has gone). */
async function sendUntilClosed(c: Deno.Conn, seed: number): Promise<void> {
  const chunk = pattern(1 << 16, seed);
  for (;;) {
    try {
      await writeAll(c, chunk);
    } catch {
      return;
    }
  }
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * seed + (i >> 9)) & 0xff;
  return b;
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) sum = (sum * 31 + b[i]) >>> 0;
  return sum;
}

spliceTest(
  "splice: a bulk relay between TCP sockets runs in the kernel, bytes intact both ways, half-close carried",
  async () => {
    const fds = openFds();
    const started = spliceCounts.started;
    const { client, target, done } = await relayed();
    const up = pattern(6_000_000, 7), down = pattern(5_000_000, 13);
    // Both directions at once; each side half-closes when it has sent everything.
    const [atTarget, atClient] = await Promise.all([
      drain(target),
      drain(client),
      writeAll(client, up).then(() => client.closeWrite()),
      writeAll(target, down).then(() => target.closeWrite()),
    ]);
    assert.deepEqual(atTarget, { n: up.length, sum: checksum(up) });
    assert.deepEqual(atClient, { n: down.length, sum: checksum(down) });
    const stats = await done;
    assert.equal(stats.inputBytes, up.length);
    assert.equal(stats.outputBytes, down.length);
    assert.equal(spliceCounts.started - started, 2, "both directions moved into the kernel");
    client.close();
    target.close();
    await spliceIdle();
    assert.equal(openFds(), fds, "every duplicate and pipe closed");
  },
);

spliceTest(
  "splice: aborting a relay mid-transfer ends it at once and gives the descriptors back",
  async () => {
    const fds = openFds();
    const started = spliceCounts.started;
    const abort = new AbortController();
    const { client, target, done } = await relayed({ signal: abort.signal });
    // The client sends without end; the target reads slowly, so the kernel copy waits on it.
    const sender = sendUntilClosed(client, 3);
    const buf = new Uint8Array(1 << 16);
    let got = 0;
    while (spliceCounts.started === started || got < 4_000_000) got += (await target.read(buf)) ?? 0;
    abort.abort();
    const stats = await done;
    assert.ok(stats.inputBytes >= got, `counted ${stats.inputBytes} of at least ${got}`);
    // Both peers see the end: the target reads its end of stream, the client's writes fail.
    while ((await target.read(buf).catch(() => null)) !== null);
    await sender;
    client.close();
    target.close();
    await spliceIdle();
    assert.equal(openFds(), fds, "every duplicate and pipe closed");
  },
);

spliceTest("splice: a peer that resets mid-transfer ends the relay", async () => {
  const started = spliceCounts.started;
  const { client, target, done } = await relayed();
  const sender = sendUntilClosed(client, 5);
  const buf = new Uint8Array(1 << 16);
  while (spliceCounts.started === started) await target.read(buf);
  target.close(); // unread bytes in its buffer: the kernel answers with a reset
  await done;
  await sender;
  client.close();
});

spliceTest("splice: off (relay option) keeps the read loop", async () => {
  const started = spliceCounts.started;
  const { client, target, done } = await relayed({ splice: false });
  const up = pattern(3_000_000, 11);
  const [atTarget] = await Promise.all([
    drain(target),
    writeAll(client, up).then(() => client.closeWrite()),
    target.closeWrite(),
  ]);
  assert.deepEqual(atTarget, { n: up.length, sum: checksum(up) });
  await done;
  assert.equal(spliceCounts.started, started);
  client.close();
  target.close();
});
