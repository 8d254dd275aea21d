/**
 * The `rtcp` listener (remote TCP port forwarding). Without a chain it listens locally,
 * like `tcp`. With one (`listener.chain`) the listening socket is opened on the host of the
 * chain's last node (SOCKS5 or relay BIND, SSH `tcpip-forward`), and inbound connections
 * arrive through the tunnel.
 *
 * Reliability: when the tunnel drops, the bind is re-established by itself with backoff
 * (0.5 s doubling to 10 s), each attempt logged; while it is down the far side has no
 * listener, so an inbound connection there is refused rather than left hanging. A first
 * bind that fails at start-up is retried the same way instead of stopping the program.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, opt } from "../core/options.ts";
import { deadline, sleep } from "../core/timeout.ts";
import type { BindOptions, Listener, Network, Router } from "../core/types.ts";
import type { ListenerFactory } from "./registry.ts";

/** First wait before re-binding, doubled after each failure up to {@link MAX_BACKOFF}. */
export const MIN_BACKOFF = 500;
export const MAX_BACKOFF = 10_000;

export const rtcpListenerOptions = defineOptions({
  /** Time allowed for one bind through the chain (dial, handshakes, BIND reply). */
  bindTimeout: opt.duration(["bindTimeout", "timeout"], 15_000),
});

/** A listener whose socket is bound through a router, re-bound whenever it goes away. */
export class RemoteForwardListener implements Listener {
  #inner?: Listener;
  #closed = false;
  #abort = new AbortController();
  /** Resolves when a bind is in place again (or the listener closes). */
  #rebound?: Promise<void>;
  /** Re-binds so far (for tests and logs). */
  rebinds = 0;

  constructor(
    readonly network: Network,
    readonly configuredAddr: string,
    readonly router: Router,
    readonly log: Logger,
    readonly bindOptions: BindOptions = {},
    readonly bindTimeout = 15_000,
  ) {}

  get addr(): string {
    return this.#inner?.addr ?? this.configuredAddr;
  }

  /** True while a bind is in place. */
  get bound(): boolean {
    return !!this.#inner;
  }

  #where(): string {
    return this.router.hasChain ? ` through chain ${this.router.chainName}` : "";
  }

  async #bindOnce(): Promise<Listener> {
    const p = this.router.bind(this.network, this.configuredAddr, {
      log: this.log,
      signal: this.#abort.signal,
    }, this.bindOptions);
    return await deadline(p, this.bindTimeout, `bind ${this.configuredAddr}${this.#where()}`, () => {
      // A bind that answers after the deadline is not wanted any more.
      p.then((l) => l.close(), () => {});
    });
  }

  async listen(): Promise<void> {
    // Without a chain this is a plain local listen: a taken port is an error at start-up.
    if (!this.router.hasChain) {
      this.#inner = await this.router.bind(
        this.network,
        this.configuredAddr,
        { log: this.log },
        this.bindOptions,
      );
      return;
    }
    try {
      this.#inner = await this.#bindOnce();
      this.log.info(`${this.network} bind on ${this.#inner.addr}${this.#where()} established`);
    } catch (err) {
      this.log.warn(
        `${this.network} bind on ${this.configuredAddr}${this.#where()} failed: ${
          errorMessage(err)
        }; retrying`,
      );
      this.#rebound = this.#rebindLoop(MIN_BACKOFF);
    }
  }

  async #rebindLoop(firstDelay: number): Promise<void> {
    let delay = firstDelay;
    for (let attempt = 1; !this.#closed; attempt++) {
      await sleep(delay, this.#abort.signal).catch(() => {});
      if (this.#closed) return;
      try {
        const l = await this.#bindOnce();
        if (this.#closed) {
          l.close();
          return;
        }
        this.#inner = l;
        this.rebinds++;
        this.log.info(
          `${this.network} bind on ${l.addr}${this.#where()} re-established (attempt ${attempt})`,
        );
        return;
      } catch (err) {
        delay = Math.min(delay * 2, MAX_BACKOFF);
        this.log.warn(
          `${this.network} re-bind on ${this.configuredAddr}${this.#where()} failed (attempt ${attempt}): ${
            errorMessage(err)
          }; next try in ${delay} ms`,
        );
      }
    }
  }

  async accept(): Promise<Duplex | null> {
    for (;;) {
      if (this.#closed) return null;
      if (!this.#inner) {
        this.#rebound ??= this.#rebindLoop(MIN_BACKOFF);
        await this.#rebound;
        this.#rebound = undefined;
        continue;
      }
      const inner = this.#inner;
      let conn: Duplex | null;
      try {
        conn = await inner.accept();
      } catch (err) {
        conn = null;
        this.log.warn(`${this.network} bind on ${inner.addr}: ${errorMessage(err)}`);
      }
      if (conn) return conn;
      if (this.#closed) return null;
      if (!this.router.hasChain) return null; // a local listener only ends when closed
      inner.close();
      this.#inner = undefined;
      this.log.warn(`${this.network} bind on ${inner.addr}${this.#where()} lost (tunnel closed); re-binding`);
      // Right away first: a drop is usually the far side restarting.
      this.#rebound = this.#rebindLoop(0);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#inner?.close();
  }
}

export const rtcpListener: ListenerFactory = {
  options: rtcpListenerOptions,
  create: (init, o) => new RemoteForwardListener("tcp", init.addr, init.router, init.log, {}, o.bindTimeout),
};
