/**
 * Throughput of an smux stream: 64 MiB one way over an in-memory pipe and over a TCP
 * socket pair, for each protocol version and with snappy framing underneath. Prints MB/s.
 */
import assert from "node:assert/strict";
import { duplexPair } from "../../core/pipe.ts";
import type { Duplex } from "../../core/duplex.ts";
import { socketDuplex } from "../../core/socket.ts";
import { SmuxSession } from "./session.ts";
import { snappyFramed } from "../snappy/framed.ts";

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;

async function tcpPair(): Promise<[Duplex, Duplex]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([Deno.connect({ hostname: "127.0.0.1", port: l.addr.port }), l.accept()]);
  l.close();
  return [socketDuplex(a), socketDuplex(b)];
}

async function transfer(
  pair: [Duplex, Duplex],
  version: 1 | 2,
  wrap: (d: Duplex) => Duplex = (d) => d,
  random = false,
): Promise<number> {
  const client = new SmuxSession(wrap(pair[0]), { client: true, version, keepAliveDisabled: true });
  const server = new SmuxSession(wrap(pair[1]), { client: false, version, keepAliveDisabled: true });
  const chunk = new Uint8Array(CHUNK).map((_, i) => (i * 7) & 0xff);
  if (random) { for (let i = 0; i < CHUNK; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536)); }
  const t0 = performance.now();
  const receiving = (async () => {
    const st = (await server.accept())!;
    const buf = new Uint8Array(256 * 1024);
    let n = 0;
    let sum = 0;
    for (;;) {
      const k = await st.direct!.read(buf);
      if (k === null) break;
      sum = (sum + buf[0] + buf[k - 1]) | 0;
      n += k;
    }
    st.close();
    return n;
  })();
  const st = await client.openStream();
  for (let sent = 0; sent < TOTAL; sent += CHUNK) await st.direct!.write(chunk);
  await st.direct!.closeWrite();
  const got = await receiving;
  const secs = (performance.now() - t0) / 1000;
  assert.equal(got, TOTAL);
  st.close();
  client.close();
  server.close();
  return TOTAL / 1e6 / secs;
}

for (const version of [1, 2] as const) {
  Deno.test(`smux v${version} throughput: 64 MiB over an in-memory pipe`, async () => {
    const mbs = await transfer(duplexPair(), version);
    console.log(`smux v${version} in-memory: ${mbs.toFixed(0)} MB/s`);
  });
  Deno.test(`smux v${version} throughput: 64 MiB over a TCP socket pair`, async () => {
    const mbs = await transfer(await tcpPair(), version);
    console.log(`smux v${version} tcp: ${mbs.toFixed(0)} MB/s`);
  });
}

for (const random of [false, true]) {
  const data = random ? "random (incompressible)" : "repetitive (compressible)";
  Deno.test(`smux v1 over snappy throughput: 64 MiB of ${data} data over a TCP socket pair`, async () => {
    const mbs = await transfer(await tcpPair(), 1, snappyFramed, random);
    console.log(`smux v1 + snappy tcp, ${data}: ${mbs.toFixed(0)} MB/s`);
  });
}
