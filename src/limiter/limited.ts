/**
 * A client connection under a traffic limit: reads (what the service receives, "in") and
 * writes (what it sends, "out") pass through a {@link Throttle}.
 *
 * A socket keeps its direct path: the limited duplex offers `direct` as well, whose read cuts
 * the read to one step, reads, reserves what came and waits until it is covered before handing
 * it over; whose write reserves each step and waits before writing it. No bytes are copied and
 * nothing is allocated per chunk beyond the wait itself; `relay()` and the handshake readers see
 * an ordinary socket that happens to be slow. Duplexes that are streams already (datagram
 * sessions, framing layers) get the same accounting per chunk in their streams.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex, streamDuplex } from "../core/duplex.ts";
import type { Throttle } from "./bucket.ts";

/** Waits that are shorter than this are carried as debt into the next step instead of slept. */
const MIN_SLEEP_MS = 1;

/** The pending sleeps of one connection, cut short when it closes. */
class Sleeper {
  #timer?: ReturnType<typeof setTimeout>;
  #wake?: () => void;
  closed = false;

  sleep(ms: number): Promise<void> | undefined {
    if (ms < MIN_SLEEP_MS || this.closed) return undefined;
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#wake = undefined;
  }
}

/** {@link DirectIO} over another, with each direction under its throttle (null: unlimited). */
export class LimitedIO implements DirectIO {
  readonly sleeper = new Sleeper();
  constructor(readonly io: DirectIO, readonly inT: Throttle | null, readonly outT: Throttle | null) {}

  async read(buf: Uint8Array): Promise<number | null> {
    const t = this.inT;
    if (!t) return this.io.read(buf);
    const want = t.clip(buf.length);
    const n = await this.io.read(want === buf.length ? buf : buf.subarray(0, want));
    if (n) {
      const wait = t.reserve(n);
      if (wait >= MIN_SLEEP_MS) await this.sleeper.sleep(wait);
    }
    return n;
  }

  async write(data: Uint8Array): Promise<void> {
    const t = this.outT;
    if (!t) return this.io.write(data);
    for (let off = 0; off < data.length;) {
      const n = t.clip(data.length - off);
      const wait = t.reserve(n);
      if (wait >= MIN_SLEEP_MS) await this.sleeper.sleep(wait);
      await this.io.write(n === data.length ? data : data.subarray(off, off + n));
      off += n;
    }
  }

  closeWrite(): Promise<void> {
    return this.io.closeWrite();
  }
}

/** Chunks through `t`: each chunk waits for its bytes (a stream chunk is cut into steps, a datagram is not). */
function throttled(
  t: Throttle,
  sleeper: Sleeper,
  datagram: boolean,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (datagram) {
        await sleeper.sleep(t.reserve(chunk.length));
        return controller.enqueue(chunk);
      }
      for (let off = 0; off < chunk.length;) {
        const n = t.clip(chunk.length - off);
        await sleeper.sleep(t.reserve(n));
        controller.enqueue(n === chunk.length ? chunk : chunk.subarray(off, off + n));
        off += n;
      }
    },
  });
}

/**
 * `conn` with its input under `inT` and its output under `outT`; `conn` itself when both are
 * null. `onClose` runs once when the returned duplex closes.
 */
export function limitDuplex(
  conn: Duplex,
  inT: Throttle | null,
  outT: Throttle | null,
  onClose?: () => void,
): Duplex {
  if (!inT && !outT) return conn;
  const direct = conn.datagram ? undefined : conn.direct;
  if (direct) {
    const io = new LimitedIO(direct, inT, outT);
    return new IODuplex(
      io,
      () => {
        io.sleeper.close();
        conn.close();
        onClose?.();
      },
      conn.local,
      conn.remote,
    );
  }
  const sleeper = new Sleeper();
  const dgram = !!conn.datagram;
  const readable = inT ? conn.readable.pipeThrough(throttled(inT, sleeper, dgram)) : conn.readable;
  let writable = conn.writable;
  if (outT) {
    const ts = throttled(outT, sleeper, dgram);
    ts.readable.pipeTo(conn.writable).catch(() => {});
    writable = ts.writable;
  }
  return streamDuplex({
    readable,
    writable,
    close: () => {
      sleeper.close();
      conn.close();
      onClose?.();
    },
    local: conn.local,
    remote: conn.remote,
    datagram: conn.datagram,
  });
}
