/**
 * CPU per megabyte of the KCP pipeline alone — ARQ, FEC, CRC and AES on both ends, without
 * sockets, snappy or smux: two sessions joined by an in-memory link move a payload one way
 * and the process's CPU time is divided by the megabytes moved.
 *
 * `deno run -A src/protocol/kcp/session_bench.ts [MiB=32] [rounds=3] [crypt=aes]`
 * @module
 */
import process from "node:process";
import { createBlockCrypt, type CryptName, deriveKey } from "./crypt.ts";
import { KcpSession, type SessionConfig } from "./session.ts";

/** The defaults a gost-deno KCP endpoint runs with (mode fast, windows 1024, FEC 10/3). */
async function config(crypt: CryptName): Promise<SessionConfig> {
  return {
    crypt: await createBlockCrypt(crypt, await deriveKey("")),
    dataShards: 10,
    parityShards: 3,
    mtu: 1350,
    sndWnd: 1024,
    rcvWnd: 1024,
    nodelay: 0,
    interval: 30,
    resend: 2,
    nc: 1,
    ackNoDelay: false,
    pacing: true,
  };
}

/** Two sessions whose datagrams are delivered in batches, each as its own copy (as a socket would). */
function pair(cfg: SessionConfig): { a: KcpSession; b: KcpSession; datagrams: () => number } {
  const queue: { to: () => KcpSession; pkt: Uint8Array }[] = [];
  let scheduled = false, count = 0;
  const pump = () => {
    scheduled = false;
    for (const { to, pkt } of queue.splice(0)) to().input(pkt);
  };
  // deno-lint-ignore prefer-const
  let a: KcpSession, b: KcpSession;
  const link = (to: () => KcpSession) => (pkt: Uint8Array) => {
    count++;
    queue.push({ to, pkt: pkt.slice() });
    if (!scheduled) {
      scheduled = true;
      setTimeout(pump, 0);
    }
  };
  a = new KcpSession(0x1234, cfg, link(() => b));
  b = new KcpSession(0x1234, cfg, link(() => a));
  return { a, b, datagrams: () => count };
}

async function run(mib: number, crypt: CryptName): Promise<{ cpuMsPerMB: number; wallMs: number }> {
  const { a, b } = pair(await config(crypt));
  const total = mib * 1024 * 1024;
  const chunk = crypto.getRandomValues(new Uint8Array(32 * 1024));
  const cpu0 = process.cpuUsage(), t0 = performance.now();
  const writer = a.writable.getWriter();
  const sending = (async () => {
    for (let sent = 0; sent < total; sent += chunk.length) await writer.write(chunk);
  })();
  const reader = b.readable.getReader();
  let got = 0;
  while (got < total) {
    const { value } = await reader.read();
    if (!value) throw new Error("stream ended early");
    got += value.length;
  }
  await sending;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  a.close();
  b.close();
  return { cpuMsPerMB: (cpu.user + cpu.system) / 1000 / (total / 1e6), wallMs };
}

if (import.meta.main) {
  const [mib = "32", rounds = "3", crypt = "aes"] = Deno.args;
  await run(4, crypt as CryptName); // warm up the JIT
  for (let i = 0; i < Number(rounds); i++) {
    const r = await run(Number(mib), crypt as CryptName);
    const mem = Deno.memoryUsage();
    console.log(
      `${mib} MiB, ${crypt}: ${r.cpuMsPerMB.toFixed(2)} CPU ms/MB, ${
        (Number(mib) * 1.048576 / r.wallMs * 8000)
          .toFixed(0)
      } Mbit/s, rss ${(mem.rss / 1e6).toFixed(0)} MB (heap ${(mem.heapTotal / 1e6).toFixed(0)}, external ${
        (mem.external / 1e6).toFixed(0)
      })`,
    );
  }
}
