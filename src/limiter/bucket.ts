/**
 * Token buckets, the one mechanism behind every limiter: a bucket holds up to `burst` tokens,
 * gains `rate` per second and starts full (as gost's, golang.org/x/time/rate: the first second
 * of a transfer may burst, go-gost/gost#555).
 *
 * Traffic takes tokens by reservation: {@link TokenBucket.reserve} takes them at once, going
 * into debt when there are not enough, and says how long to wait until the debt is paid. Each
 * reservation costs two numbers, no allocation and no queue; waiting callers are served in the
 * order they reserved.
 * @module
 */

/** Milliseconds from a monotonic clock; tests pass a fake one. */
export type Clock = () => number;

/** The real clock. */
export const realClock: Clock = () => performance.now();

/**
 * Largest share of a second one step of traffic may take: reads and writes under a limit are
 * cut to at most this much of the rate, so a 1 MB/s limit moves ~50 KiB every 50 ms rather than
 * its whole burst at once.
 */
const STEP_SECONDS = 0.05;

/** A token bucket; an infinite rate means no limit (reservations are free). */
export class TokenBucket {
  #perMs = Infinity;
  #burst = 0;
  #tokens = 0;
  #last: number;
  /** Largest single reservation a caller should make (see {@link STEP_SECONDS}). */
  step = Infinity;

  /** `rate` per second, `burst` tokens at most (gost: the rate itself). */
  constructor(rate: number, burst: number = rate, readonly clock: Clock = realClock) {
    this.#last = clock();
    this.setRate(rate, burst);
  }

  /** Tokens per second (Infinity: unlimited). */
  get rate(): number {
    return this.#perMs * 1000;
  }

  /** Changes the rate (and burst, by default the new rate), keeping what was accrued so far. */
  setRate(rate: number, burst: number = rate): void {
    this.#advance(this.clock());
    const was = this.#perMs;
    this.#perMs = rate > 0 ? rate / 1000 : Infinity;
    this.#burst = Math.max(1, burst);
    // Into or out of "unlimited": no debt is owed, the bucket is full.
    if (was === Infinity || this.#perMs === Infinity) this.#tokens = this.#burst;
    this.step = this.#perMs === Infinity
      ? Infinity
      : Math.max(1, Math.min(this.#burst, Math.ceil(rate * STEP_SECONDS)));
  }

  #advance(now: number): void {
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0 && this.#tokens < this.#burst) {
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
    }
  }

  /**
   * Takes `n` tokens now (`now` from this bucket's clock, when the caller has read it already);
   * returns the milliseconds until they are covered (0 when they were there). The caller moves
   * its bytes after that wait.
   */
  reserve(n: number, now?: number): number {
    if (this.#perMs === Infinity) return 0;
    this.#advance(now ?? this.clock());
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#perMs;
  }

  /** Takes `n` tokens if they are all there (request counting); false leaves the bucket as it was. */
  allow(n = 1): boolean {
    if (this.#perMs === Infinity) return true;
    this.#advance(this.clock());
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** True when the bucket is full: it then behaves exactly like a new one and may be dropped. */
  get full(): boolean {
    if (this.#perMs === Infinity) return true;
    this.#advance(this.clock());
    return this.#tokens >= this.#burst;
  }
}

/**
 * One direction of a connection under several buckets (service, connection, client IP): each
 * step is cut to the smallest bucket's step and reserved in all of them; the wait is the
 * longest.
 */
export class Throttle {
  constructor(readonly buckets: readonly TokenBucket[]) {}

  /** How much of `n` bytes one step may move. */
  clip(n: number): number {
    for (const b of this.buckets) if (b.step < n) n = b.step;
    return n;
  }

  /** Reserves `n` in every bucket; milliseconds to wait before moving them. */
  reserve(n: number): number {
    let wait = 0;
    const now = this.buckets[0].clock(); // one clock read for all: the buckets share one clock
    for (const b of this.buckets) {
      const w = b.reserve(n, now);
      if (w > wait) wait = w;
    }
    return wait;
  }
}
