/**
 * Relay `nodelay`, all four client × server combinations through the real CLI, with a
 * client-first target (HTTP) and a server-first one (a "220 banner" that the client only
 * reads). Real gost hangs in two of each: nodelay=true on the client waits for a response
 * that a default server holds until the target speaks, and nodelay=false holds the request
 * until the client speaks. Every request here must finish well under a second.
 */
import assert from "node:assert/strict";
import { freePorts, httpServer, startGost } from "../_helpers.ts";
import type { GostProcess } from "../_helpers.ts";
import { deadline } from "../../src/core/timeout.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const enc = new TextEncoder();
const dec = new TextDecoder();
/** A hang fails after this long instead of at the test runner's limit. */
const HANG_MS = 3000;
/** "Well under a second", with room for a loaded test machine. */
const MAX_MS = 1000;

function bannerServer(): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) {
      c.write(enc.encode("220 banner\r\n")).then(() => c.close(), () => c.close());
    }
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

/** Runs `f`, failing when it hangs or takes `MAX_MS` or more; returns its result and duration. */
async function timed<T>(what: string, f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await deadline(f(), HANG_MS, what);
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS, `${what} took ${ms.toFixed(0)} ms`);
  return [v, ms];
}

async function httpGet(port: number): Promise<string> {
  const client = Deno.createHttpClient({});
  try {
    const res = await fetch(`http://127.0.0.1:${port}/x`, { client, signal: AbortSignal.timeout(HANG_MS) });
    return `${res.status} ${await res.text()}`;
  } finally {
    client.close();
  }
}

async function readBanner(port: number): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const stop = setTimeout(() => c.close(), HANG_MS);
  try {
    const buf = new Uint8Array(64);
    let got = "";
    while (!got.endsWith("\r\n")) {
      const n = await c.read(buf);
      if (n === null) break;
      got += dec.decode(buf.subarray(0, n));
    }
    return got;
  } finally {
    clearTimeout(stop);
    try {
      c.close();
    } catch { /* closed by the timer */ }
  }
}

Deno.test({
  name: "relay nodelay: client × server true/false, HTTP and server-first targets, each well under a second",
  ...opts,
  fn: async () => {
    const http = httpServer(() => new Response("hello"));
    const banner = bannerServer();
    const [r0, r1, ...fwd] = freePorts(2 + 8);
    const relays = [r0, r1]; // server nodelay=false, nodelay=true
    const procs: GostProcess[] = [];
    try {
      const starts = [
        startGost([
          "-L",
          `relay://u:p@127.0.0.1:${r0}?nodelay=false`,
          "-L",
          `relay://u:p@127.0.0.1:${r1}?nodelay=true`,
        ], 2),
      ];
      const combos: { name: string; httpPort: number; bannerPort: number }[] = [];
      for (const clientNodelay of [false, true]) {
        for (const [i, serverNodelay] of [false, true].entries()) {
          const [hp, bp] = fwd.splice(0, 2);
          combos.push({
            name: `client nodelay=${clientNodelay}, server nodelay=${serverNodelay}`,
            httpPort: hp,
            bannerPort: bp,
          });
          starts.push(startGost([
            "-L",
            `tcp://127.0.0.1:${hp}/127.0.0.1:${http.port}`,
            "-L",
            `tcp://127.0.0.1:${bp}/127.0.0.1:${banner.port}`,
            "-F",
            `relay://u:p@127.0.0.1:${relays[i]}?nodelay=${clientNodelay}`,
          ], 2));
        }
      }
      // Keep every process that started, so that one failing to start leaves none behind.
      const started = await Promise.allSettled(starts);
      for (const s of started) if (s.status === "fulfilled") procs.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const failures: string[] = [];
      const probe = async (what: string, f: () => Promise<string>, want: string) => {
        try {
          const [got] = await timed(what, f);
          assert.equal(got, want, what);
        } catch (err) {
          failures.push((err as Error).message);
        }
      };
      for (const c of combos) {
        await probe(`${c.name}: HTTP`, () => httpGet(c.httpPort), "200 hello");
        await probe(`${c.name}: banner`, () => readBanner(c.bannerPort), "220 banner\r\n");
      }
      assert.deepEqual(failures, []);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      banner.close();
      await http.close();
    }
  },
});
