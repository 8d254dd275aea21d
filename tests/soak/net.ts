/**
 * Client-side helpers of the soak: echo round trips with deadlines, HTTP CONNECT, a bounded
 * pool of concurrent jobs, and the gost process's memory and descriptor counts.
 * @module
 */

/** Resolves with `p`, or rejects after `ms` with "timed out: `what`". */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]).finally(() => clearTimeout(timer));
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads exactly `n` bytes; null when the stream ended first. */
async function readFull(c: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await c.read(out.subarray(got));
    if (k === null) return null;
    got += k;
  }
  return out;
}

async function writeAll(c: Deno.Conn, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await c.write(b.subarray(off));
}

let counter = 0;
/** Writes 32 distinct bytes and checks the echo. Throws on a mismatch, an early end or a reset. */
export async function echo(c: Deno.Conn): Promise<void> {
  const msg = enc.encode(`soak ${String(++counter).padStart(12, "0")} ${Date.now() % 1e9}`.padEnd(32, "."));
  await writeAll(c, msg);
  const back = await readFull(c, msg.length);
  if (!back) throw new Error("connection closed before the echo");
  if (dec.decode(back) !== dec.decode(msg)) throw new Error("echo differs");
}

/** Connects to 127.0.0.1:`port`. */
export function dial(port: number): Promise<Deno.Conn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Connects to an HTTP proxy and asks for a tunnel to 127.0.0.1:`target`. */
export async function dialConnect(proxy: number, target: number): Promise<Deno.Conn> {
  const c = await dial(proxy);
  try {
    await writeAll(
      c,
      enc.encode(`CONNECT 127.0.0.1:${target} HTTP/1.1\r\nHost: 127.0.0.1:${target}\r\n\r\n`),
    );
    // Read the head byte by byte: nothing after it may be consumed here.
    let head = "";
    const one = new Uint8Array(1);
    while (!head.endsWith("\r\n\r\n")) {
      if ((await c.read(one)) === null) throw new Error(`proxy closed after ${JSON.stringify(head)}`);
      head += String.fromCharCode(one[0]);
      if (head.length > 4096) throw new Error("proxy answer too long");
    }
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`proxy answered ${head.split("\r\n")[0]}`);
    return c;
  } catch (err) {
    c.close();
    throw err;
  }
}

/** Closes without caring whether it already was. */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* closed */ }
}

/** Outcome of many legitimate requests. */
export interface Tally {
  ok: number;
  failed: number;
  /** The first few distinct failure messages. */
  errors: string[];
}

/** A tally that remembers up to 5 distinct errors. */
export function tally(): Tally & { fail(err: unknown): void } {
  const t = {
    ok: 0,
    failed: 0,
    errors: [] as string[],
    fail(err: unknown) {
      t.failed++;
      const m = err instanceof Error ? err.message : String(err);
      if (t.errors.length < 5 && !t.errors.includes(m)) t.errors.push(m);
    },
  };
  return t;
}

/** Runs `job(i)` for i < n with at most `concurrency` at once; counts successes and failures. */
export async function pool(
  n: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
  t = tally(),
): Promise<Tally> {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      try {
        await job(i);
        t.ok++;
      } catch (err) {
        t.fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return t;
}

/** Resident memory (MiB) and open descriptors of process `pid`, from /proc. */
export function procStats(pid: number): { rssMiB: number; fds: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  let fds = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
  return { rssMiB: Math.round(kb / 1024), fds };
}

/** The soft and hard descriptor limits of process `pid`. */
export function fdLimits(pid: number = Deno.pid): { soft: number; hard: number } {
  const line = Deno.readTextFileSync(`/proc/${pid}/limits`).split("\n").find((l) =>
    l.startsWith("Max open files")
  );
  const [soft, hard] = (line ?? "").replace("Max open files", "").trim().split(/\s+/).map(Number);
  return { soft, hard };
}

/** Samples `pid` every `ms` and keeps the peak. */
export function peakSampler(pid: number, ms = 250): { peak: { rssMiB: number; fds: number }; stop(): void } {
  const peak = { rssMiB: 0, fds: 0 };
  const timer = setInterval(() => {
    try {
      const s = procStats(pid);
      peak.rssMiB = Math.max(peak.rssMiB, s.rssMiB);
      peak.fds = Math.max(peak.fds, s.fds);
    } catch { /* process gone */ }
  }, ms);
  return { peak, stop: () => clearInterval(timer) };
}

/** A pause. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
