/**
 * Deadlines for handshakes: a stalled peer must not hold a connection forever.
 * @module
 */

/** The operation did not finish in time. */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** One pending deadline: `fire` is null once it was met (or fired). */
interface Entry {
  readonly at: number;
  fire: (() => void) | null;
}

/**
 * The pending deadlines of one duration. Each falls due later than the one added before it
 * (the clock is monotonic), so they wait in insertion order behind one timer, armed for the
 * first still pending. A handshake deadline is met within milliseconds almost always: it is
 * marked and dropped from the front, and no timer is created or cleared per connection. A
 * Node-style `Timeout` (what `setTimeout` gives in Deno 2.9), its promise and `Promise.race`
 * cost ~4% of a short connection's CPU (ss, 64 in parallel, cpu-prof).
 */
class DeadlineQueue {
  readonly #entries: Entry[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly ms: number) {}

  add(fire: () => void): Entry {
    const entry: Entry = { at: performance.now() + this.ms, fire };
    this.#entries.push(entry);
    if (this.#timer === undefined) this.#arm();
    return entry;
  }

  /** The deadline was met: drop it, with every met one now at the front. */
  met(entry: Entry): void {
    entry.fire = null;
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head].fire === null) this.#head++;
    if (this.#head === entries.length) {
      entries.length = this.#head = 0;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else this.#compact();
  }

  /** Drops the entries before the head once they are the larger part. */
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#entries.length) return;
    this.#entries.splice(0, this.#head);
    this.#head = 0;
  }

  /** Arms the timer for the first entry (pending: {@link met} drops met ones eagerly). */
  #arm(): void {
    const wait = this.#entries[this.#head].at - performance.now();
    this.#timer = setTimeout(() => this.#due(), Math.max(0, wait));
  }

  #due(): void {
    this.#timer = undefined;
    // A timer may fire a fraction of a millisecond before its float deadline.
    const now = performance.now() + 1;
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const entry = entries[this.#head];
      if (entry.fire !== null && entry.at > now) break;
      this.#head++;
      const fire = entry.fire;
      entry.fire = null;
      fire?.();
    }
    if (this.#head < entries.length) {
      this.#compact();
      this.#arm();
    } else entries.length = this.#head = 0;
  }
}

const queues = new Map<number, DeadlineQueue>();
/** Durations given a queue of their own; any other (a computed remainder) gets a timer of its own. */
const MAX_QUEUES = 64;

function queueFor(ms: number): DeadlineQueue | undefined {
  let queue = queues.get(ms);
  if (!queue && Number.isInteger(ms) && queues.size < MAX_QUEUES) {
    queues.set(ms, queue = new DeadlineQueue(ms));
  }
  return queue;
}

/**
 * Resolves like `p`, or rejects with {@link TimeoutError} after `ms` and calls `onTimeout`
 * (typically closing the connection so the pending read ends too). `ms <= 0` means no limit.
 */
export function deadline<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  if (ms <= 0) return p;
  return new Promise<T>((resolve, reject) => {
    const expire = () => {
      try {
        onTimeout?.();
      } catch {
        // closing failed: the deadline still rejects
      }
      reject(new TimeoutError(what, ms));
    };
    const queue = queueFor(ms);
    const entry = queue?.add(expire);
    const timer = queue ? undefined : setTimeout(expire, ms);
    const met = () => entry ? queue!.met(entry) : clearTimeout(timer);
    p.then((value) => {
      met();
      resolve(value);
    }, (err) => {
      met();
      reject(err);
    });
  });
}

/** Resolves after `ms`, or early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
