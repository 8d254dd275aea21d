/**
 * The hand-off between whatever produces inbound connections (a receive loop, a handshake,
 * a mux session, an SSH server) and a listener's `accept()`: a waiting `accept()` gets the
 * next one at once, otherwise it queues up to a backlog; closing wakes every waiter with
 * `null` and closes what nobody took.
 * @module
 */

/** A bounded queue of accepted items with waiting takers. */
export class AcceptQueue<T extends { close(): void }> {
  readonly #queue: T[] = [];
  readonly #waiters: ((item: T | null) => void)[] = [];
  #closed = false;

  /** @param backlog how many items may wait for `next()` before {@link offer} refuses more */
  constructor(readonly backlog: number) {}

  /** Items waiting to be taken. */
  get size(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when an {@link offer} now would be refused (closed, or nobody waiting and the backlog full). */
  get full(): boolean {
    return this.#closed || (this.#waiters.length === 0 && this.#queue.length >= this.backlog);
  }

  /** Hands `item` to a waiting taker or queues it; false (item untouched) when {@link full}. */
  offer(item: T): boolean {
    if (this.#closed) return false;
    const w = this.#waiters.shift();
    if (w) {
      w(item);
      return true;
    }
    if (this.#queue.length >= this.backlog) return false;
    this.#queue.push(item);
    return true;
  }

  /** The next item (a queued one is taken synchronously), or null once closed and drained. */
  next(): Promise<T | null> {
    const item = this.#queue.shift();
    if (item) return Promise.resolve(item);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes every waiting taker with null and closes every queued item; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(null);
    for (const item of this.#queue.splice(0)) item.close();
  }
}
