/**
 * Bulk data over an HTTP/2 tunnel stream on a TCP socket pair, with Go's SETTINGS on each side (the
 * client takes 16 KiB frames, the server 1 MiB ones): 64 MiB each way, MB/s printed, and the writes
 * the sender made counted. Each write of the application goes out as one socket write however many
 * DATA frames the peer's frame size splits it into (one write per 16 KiB frame made the
 * server-to-client direction of relay+h2 pay a write, and a TLS record, per 16 KiB).
 */
import assert from "node:assert/strict";
import process from "node:process";
import type { DirectIO, Duplex } from "../../core/duplex.ts";
import { socketDuplex } from "../../core/socket.ts";
import {
  CLIENT_CONNECTION_WINDOW,
  CLIENT_SETTINGS,
  SERVER_CONNECTION_WINDOW,
  SERVER_SETTINGS,
} from "./tunnel.ts";
import { Http2Session } from "./session.ts";

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 512 * 1024;

/** A socket duplex whose direct writes are counted. */
function counted(d: Duplex): { duplex: Duplex; writes: () => number } {
  const io = d.direct!;
  let writes = 0;
  const direct: DirectIO = {
    read: (b) => io.read(b),
    write: (b) => (writes++, io.write(b)),
    closeWrite: () => io.closeWrite(),
  };
  return {
    duplex: { ...d, direct, local: d.local, remote: d.remote, close: () => d.close() } as Duplex,
    writes: () => writes,
  };
}

async function tcpPair(): Promise<[Duplex, Duplex]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([Deno.connect({ hostname: "127.0.0.1", port: l.addr.port }), l.accept()]);
  l.close();
  // As the tcp dialer and listener set it: with Nagle, a WINDOW_UPDATE waits for a delayed ACK.
  a.setNoDelay(true);
  b.setNoDelay(true);
  return [socketDuplex(a), socketDuplex(b)];
}

async function drain(io: DirectIO): Promise<number> {
  const buf = new Uint8Array(256 * 1024);
  let n = 0;
  for (let k = await io.read(buf); k !== null; k = await io.read(buf)) n += k;
  return n;
}

async function transfer(toClient: boolean): Promise<{ mbs: number; cpuMs: number; writes: number }> {
  const [a, b] = await tcpPair();
  const ca = counted(a), cb = counted(b);
  const client = new Http2Session(ca.duplex, {
    client: true,
    settings: CLIENT_SETTINGS,
    connectionWindowIncrement: CLIENT_CONNECTION_WINDOW,
  });
  const server = new Http2Session(cb.duplex, {
    client: false,
    settings: SERVER_SETTINGS,
    connectionWindowIncrement: SERVER_CONNECTION_WINDOW,
  });
  try {
    const req = await client.request([[":method", "CONNECT"], [":authority", "x:1"]]);
    const s = (await server.accept())!;
    await s.respond([[":status", "200"]]);
    await req.waitHeaders();
    const [src, dst] = toClient ? [s.direct!, req.direct!] : [req.direct!, s.direct!];
    const sender = toClient ? cb : ca;
    const chunk = new Uint8Array(CHUNK).map((_, i) => (i * 7) & 0xff);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const w0 = sender.writes();
    const receiving = drain(dst);
    for (let sent = 0; sent < TOTAL; sent += CHUNK) await src.write(chunk);
    await src.closeWrite();
    const got = await receiving;
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    assert.equal(got, TOTAL);
    return { mbs: TOTAL / 1e6 / secs, cpuMs: (cpu.user + cpu.system) / 1000, writes: sender.writes() - w0 };
  } finally {
    client.close();
    server.close();
  }
}

for (const toClient of [true, false]) {
  const dir = toClient ? "server to client (16 KiB frames)" : "client to server (1 MiB frames)";
  Deno.test(`http2 throughput: 64 MiB ${dir} over a TCP socket pair, one socket write per chunk`, async () => {
    const { mbs, cpuMs, writes } = await transfer(toClient);
    console.log(
      `http2 ${dir}: ${mbs.toFixed(0)} MB/s, CPU ${cpuMs.toFixed(0)} ms, ${writes} writes for ${
        TOTAL / CHUNK
      } chunks`,
    );
    // Window updates and the END_STREAM frame add a few; a write per frame would be 32 per chunk.
    assert.ok(writes <= (TOTAL / CHUNK) * 2 + 16, `${writes} socket writes for ${TOTAL / CHUNK} chunks`);
  });
}
