/**
 * Send pacing for a KCP session: a budget of datagrams that refills at a rate tied to what the
 * peer has been acknowledging, which the ARQ consults before it sends data.
 *
 * Why: KCP (with `nc=1`, as every preset runs) sends whatever its window allows the moment an
 * ack frees it — hundreds of datagrams at once. A receiver whose socket buffer is small (Linux's
 * default 208 KiB holds ~90 such datagrams; Deno cannot enlarge it without FFI) drops most of a
 * burst, and every drop costs a retransmission on both sides. Measured on loopback between two
 * gost-deno processes: ~20% of datagrams lost and ~29% of segments retransmitted unpaced.
 *
 * The budget gates the ARQ itself (see `Arq.budget`) rather than a queue after it: segments it
 * holds back stay unsent in the ARQ, so their retransmission timers do not run while they wait.
 * (A queue behind the ARQ was tried: queued segments timed out, were queued again, and the queue
 * grew to thousands.)
 *
 * The rate is `gain` times the best delivery rate of the last few sampling windows (segments
 * acknowledged per millisecond, scaled to datagrams by the FEC overhead), never below `floor`.
 * While the budget holds sending back, the delivery rate can grow by `gain` per window, so the
 * rate climbs quickly to whatever the path and the peer take; random loss on a long path lowers
 * the delivery rate only by the loss fraction, so unlike a loss-driven congestion control it
 * does not collapse there. Short exchanges are not slowed: up to `burst` datagrams go at once.
 * @module
 */

/** Tuning of a {@link Pacer}; rates are datagrams per millisecond. */
export interface PacerOptions {
  /** Lowest pacing rate. */
  floor: number;
  /** Datagrams that may leave back to back. */
  burst: number;
  /** Pacing rate over the measured delivery rate. */
  gain: number;
  /** Length of one delivery-rate sample, ms. */
  sampleMs: number;
  /** Samples the best delivery rate is taken from. */
  samples: number;
  /** Datagrams on the wire per datagram the ARQ emits (1 + parity / data with FEC). */
  datagramsPerSegment: number;
}

/**
 * Defaults chosen by measurement (`tests/bench/kcp_cpu.ts`, iperf3 through a KCP forward over
 * loopback, 2 cores). gost-deno to gost-deno, unpaced: 245–258 Mbit/s at 44–47 ms of CPU per MB,
 * a fifth of the datagrams dropped; paced as here: 316–354 Mbit/s at 35–38 ms/MB. A burst of 64
 * did a little better there (320–360) but cost a third of the throughput towards kcptun (kcp-go
 * with 4 MiB socket buffers: 150–160 against 260–270 unpaced): timers fire late under load and the
 * tokens a late timer would have earned beyond the burst are lost. With 128: 282 towards kcptun,
 * unpaced 259. A burst of 32 capped the rate near 155 Mbit/s; eight samples instead of four and a
 * BBR-style gain cycle (1.25, 0.75, then 1) both ended near 220–300 Mbit/s. The floor (~170 Mbit/s
 * of 1350-byte datagrams) lets a fresh or idle session start fast.
 */
export const DEFAULT_PACER: Omit<PacerOptions, "datagramsPerSegment"> = {
  floor: 16,
  burst: 128,
  gain: 1.25,
  sampleMs: 50,
  samples: 4,
};

/** The clock and timer a pacer runs on (replaceable in tests). */
export interface PacerClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(id: unknown): void;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** What the ARQ asks before sending: how many datagrams it may emit, and what it did emit. */
export interface SendBudget {
  /** Datagrams the ARQ may emit now. */
  allowance(): number;
  /** The ARQ emitted `n` datagrams; `heldBack` when it stopped for lack of budget. */
  spend(n: number, heldBack: boolean): void;
}

/** A token bucket refilled at the measured delivery rate; calls `resume` when held-back sending may go on. */
export class Pacer implements SendBudget {
  readonly #o: PacerOptions;
  readonly #clock: PacerClock;
  readonly #resume: () => void;
  #tokens: number;
  #tokenAt: number;
  #rate: number;
  #timer: unknown = undefined;
  /** Delivery samples, segments per ms (a ring). */
  readonly #rates: Float64Array;
  #sampleIndex = 0;
  #sampleStart: number;
  #sampleCount = 0;
  #closed = false;

  constructor(resume: () => void, options: PacerOptions, clock: PacerClock = realClock) {
    this.#resume = resume;
    this.#o = options;
    this.#clock = clock;
    this.#tokens = options.burst;
    this.#tokenAt = this.#sampleStart = clock.now();
    this.#rate = options.floor;
    this.#rates = new Float64Array(Math.max(1, options.samples));
  }

  /** The current pacing rate, datagrams on the wire per ms. */
  get rate(): number {
    return this.#rate;
  }

  allowance(): number {
    this.#refill();
    return Math.max(0, Math.floor(this.#tokens / this.#o.datagramsPerSegment));
  }

  spend(n: number, heldBack: boolean): void {
    this.#tokens -= n * this.#o.datagramsPerSegment;
    if (heldBack) this.#arm();
  }

  /** Reports `segments` newly acknowledged by the peer. */
  delivered(segments: number): void {
    const now = this.#clock.now();
    this.#sampleCount += segments;
    const elapsed = now - this.#sampleStart;
    if (elapsed < this.#o.sampleMs) return;
    const rates = this.#rates;
    rates[this.#sampleIndex] = this.#sampleCount / elapsed;
    this.#sampleIndex = (this.#sampleIndex + 1) % rates.length;
    this.#sampleStart = now;
    this.#sampleCount = 0;
    let best = 0;
    for (const r of rates) if (r > best) best = r;
    this.#refill(); // tokens earned so far count at the old rate
    this.#rate = Math.max(this.#o.floor, best * this.#o.datagramsPerSegment * this.#o.gain);
  }

  /** Stops the timer; `resume` is not called afterwards. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#o.burst, this.#tokens + (now - this.#tokenAt) * this.#rate);
    this.#tokenAt = now;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    // Wake once one ARQ datagram (with its parity) can go; timers have a ~1 ms grain.
    const wait = Math.max(1, Math.ceil((this.#o.datagramsPerSegment - this.#tokens) / this.#rate));
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#resume();
    }, wait);
  }
}
