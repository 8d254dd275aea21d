/**
 * Copies bytes both ways between two duplexes: the one routine every handler ends in.
 *
 * Half-close is carried through (end of stream on one side half-closes the other), an
 * error on either side closes both, and bytes are counted for the connection's log line.
 * Where a side offers direct access it is read with a plain loop over a reused buffer that
 * starts small (idle connections stay cheap) and grows while reads fill it (bulk transfers
 * get reads of up to 1 MiB).
 * @module
 */
import { ChunkPump, type DirectIO, type Duplex, MIN_READ } from "./duplex.ts";
import { BufferPool, QUIET_READS, ReadSizer } from "./read_buffer.ts";
import type { HandlerContext } from "./types.ts";
import { canSplice, spliceCopy, type SpliceHandle } from "./splice.ts";
import { tcpConnOf } from "./socket.ts";

/**
 * Largest buffer of the socket-to-socket loop. Measured on loopback (iperf3, one stream):
 * 256 KiB 11.4–14.4 Gbit/s at ~80% CPU, 512 KiB 16.4–18.8 at ~65%. 1 MiB did not help one
 * stream on a quiet machine (its reads seldom fill 512 KiB), but it does where the machine is short of CPU and
 * data waits in the socket: four streams through an http or socks5 proxy (two gost processes
 * and iperf3 on two cores) read 450–500 KB of every 512 KiB. Two such paths side by side, 8
 * pairs each: CPU per GiB −7% (http, 1210 → 1118 ms) and −13% (socks5, 1256 → 1092); one path
 * alone: http unchanged, socks5 −2 to −8%; RSS under that load +2 MiB per process. 128 KiB
 * cost +20%. The buffer goes back to 4 KiB after a few small reads, so only bulk transfers
 * hold it.
 */
export const RELAY_MAX_READ = 1024 * 1024;

/**
 * The first read buffer of each socket-to-socket copy, taken at its start and given back at its
 * end (see {@link BufferPool}: a fresh 4 KiB buffer costs ~4 µs here, two per connection). 64 of them
 * (256 KiB) cover the connections that end close together; more are simply allocated.
 */
const firstReads = new BufferPool(MIN_READ, 64);
/** What `buf` holds between giving a buffer back and taking the next (the pool refuses it). */
const GIVEN_BACK = new Uint8Array(0);

/**
 * Read size from which a socket-to-socket copy moves into the kernel (core/splice.ts): reached
 * after reads filled 4, 16 and 64 KiB, i.e. a bulk transfer. Short exchanges (a request and its
 * answer) stay in the read loop and never pay the set-up (four descriptors, an epoll entry).
 */
export const SPLICE_FROM = 256 * 1024;

/** Bytes moved by {@link relay}: `input` from the client side, `output` to it. */
export interface RelayStats {
  inputBytes: number;
  outputBytes: number;
}

/** Options for {@link relay}. */
export interface RelayOptions {
  /** Aborting it closes both sides. */
  signal?: AbortSignal;
  /** Called with byte counts as they move (for live stats); optional. */
  onBytes?: (dir: "in" | "out", n: number) => void;
  /** Bulk transfers between two TCP sockets may move into the kernel (default true). */
  splice?: boolean;
}

/**
 * Relays `client` ⇄ `target` until both directions end or one fails, then closes both.
 * Resolves with the byte counts; rejects only with the first error if one occurred after
 * no data had moved at all (otherwise errors just end the relay).
 */
export async function relay(client: Duplex, target: Duplex, opts: RelayOptions = {}): Promise<RelayStats> {
  const stats: RelayStats = { inputBytes: 0, outputBytes: 0 };
  let failed: unknown = null;
  const splices = opts.splice === false ? undefined : new Set<SpliceHandle>();
  const closeBoth = () => {
    // First the kernel copies: they own duplicates of the sockets, which closing alone would leave open.
    splices?.forEach((s) => s.stop());
    client.close();
    target.close();
  };
  const onAbort = () => closeBoth();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const run = async (src: Duplex, dst: Duplex, dir: "in" | "out") => {
    try {
      await copy(src, dst, (n) => {
        if (dir === "in") stats.inputBytes += n;
        else stats.outputBytes += n;
        opts.onBytes?.(dir, n);
      }, splices);
    } catch (err) {
      failed ??= err;
      closeBoth();
    }
  };
  // Take direct access (or streams) for both sides before starting either copy, so the two
  // directions agree on which path each side uses.
  await Promise.all([run(client, target, "in"), run(target, client, "out")]);
  opts.signal?.removeEventListener("abort", onAbort);
  closeBoth();
  if (failed && !opts.signal?.aborted && stats.inputBytes === 0 && stats.outputBytes === 0) throw failed;
  return stats;
}

/**
 * Copies one direction until end of stream, then half-closes `dst`. With `splices`, a bulk
 * transfer between two TCP sockets moves into the kernel, its handle in the set while it runs.
 */
export async function copy(
  src: Duplex,
  dst: Duplex,
  count: (n: number) => void,
  splices?: Set<SpliceHandle>,
): Promise<void> {
  const from = src.direct;
  const to = dst.direct;
  if (from && !src.datagram) {
    return copyDirect(from, to, to ? null : dst.writable.getWriter(), count, splices);
  }
  const reader = src.readable.getReader();
  const writer = to ? null : dst.writable.getWriter();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      count(r.value.length);
      if (to) await to.write(r.value);
      else await writer!.write(r.value);
    }
    if (to) await to.closeWrite();
    else await writer!.close();
  } catch (err) {
    reader.cancel(err).catch(() => {});
    writer?.abort(err).catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

async function copyDirect(
  from: DirectIO,
  to: DirectIO | undefined,
  writer: WritableStreamDefaultWriter<Uint8Array> | null,
  count: (n: number) => void,
  splices?: Set<SpliceHandle>,
): Promise<void> {
  try {
    if (to) {
      // Socket to socket: each buffer is written in full before the next read, so one
      // buffer is reused, growing while reads fill it and given back when the connection
      // turns quiet (a long-lived connection after a burst holds 4 KiB again, not 512).
      const sizer = new ReadSizer(MIN_READ, RELAY_MAX_READ, QUIET_READS);
      let buf = firstReads.take();
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (n === 0) continue;
        count(n);
        await to.write(buf.subarray(0, n));
        if (sizer.update(n)) {
          firstReads.give(buf); // done with: only a MIN_READ one is kept
          // Given back, it may be another connection's by now: never given twice.
          buf = GIVEN_BACK;
          if (splices && sizer.size >= SPLICE_FROM && await spliced(from, to, count, splices)) break;
          buf = sizer.size === MIN_READ ? firstReads.take() : new Uint8Array(sizer.size);
        }
      }
      // The last read has resolved and every write is done: nothing touches `buf` any more. On an
      // error it is left to the collector: a write that failed may still hold it.
      firstReads.give(buf);
      await to.closeWrite();
    } else {
      // A stream may keep the chunk: hand it bytes of its own.
      const pump = new ChunkPump(from);
      for (let chunk = await pump.next(); chunk !== null; chunk = await pump.next()) {
        count(chunk.length);
        await writer!.write(chunk);
      }
      await writer!.close();
    }
  } catch (err) {
    writer?.abort(err).catch(() => {});
    throw err;
  }
}

/**
 * Runs the rest of a copy in the kernel when both sides are plain TCP sockets; false when they are
 * not or it cannot start (the read loop goes on). Rejects with a socket error.
 */
async function spliced(
  from: DirectIO,
  to: DirectIO,
  count: (n: number) => void,
  splices: Set<SpliceHandle>,
): Promise<boolean> {
  const a = tcpConnOf(from, "read"), b = tcpConnOf(to, "write");
  const handle = a && b && await canSplice() ? spliceCopy(a, b, count) : null;
  if (!handle) return false;
  splices.add(handle);
  try {
    await handle.done;
  } finally {
    splices.delete(handle);
  }
  return true;
}

/**
 * {@link relay} as a handler runs it: it ends when the service stops (`ctx.signal`), and the
 * byte counts go into the connection's log record.
 */
export async function relayRecorded(
  client: Duplex,
  target: Duplex,
  ctx: HandlerContext,
): Promise<RelayStats> {
  const stats = await relay(client, target, { signal: ctx.signal });
  ctx.record.inputBytes = stats.inputBytes;
  ctx.record.outputBytes = stats.outputBytes;
  return stats;
}
