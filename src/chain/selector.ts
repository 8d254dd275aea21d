/**
 * Node selection for hops and forwarders: strategies round, rand, fifo, hash, with
 * fail marking (a node that failed `maxFails` times is skipped for `failTimeout`).
 * @module
 */
import { crc32 } from "../core/crc32.ts";
import type { ConfigError } from "../core/errors.ts";
import { defineOptions, type Metadata, opt } from "../core/options.ts";

/** Anything selectable: carries its own failure marks. */
export interface Selectable {
  readonly name: string;
  readonly marker: FailMarker;
  /** Relative weight for `rand` (default 1). */
  readonly weight?: number;
  /** A backup (`backup=true`): chosen only while every other node of the group is failed-out. */
  readonly backup?: boolean;
  /** Its own `maxFails`/`failTimeout` (metadata), over the selector's, as in gost. */
  readonly fail?: FailOverride;
}

/** A node's or target's own fail settings; unset ones come from the selector. */
export interface FailOverride {
  maxFails?: number;
  failTimeout?: number;
}

/** Failure bookkeeping for one node. */
export class FailMarker {
  fails = 0;
  lastFail = 0;
  mark(now = Date.now()): void {
    this.fails++;
    this.lastFail = now;
  }
  reset(): void {
    this.fails = 0;
  }
}

export const STRATEGIES = ["round", "rr", "rand", "random", "fifo", "ha", "hash"] as const;
export type Strategy = "round" | "rand" | "fifo" | "hash";

/** Canonical strategy name for an alias, or null if unknown. */
export function normalizeStrategy(s: string): Strategy | null {
  switch (s.toLowerCase()) {
    case "round":
    case "rr":
      return "round";
    case "rand":
    case "random":
      return "rand";
    case "fifo":
    case "ha":
      return "fifo";
    case "hash":
      return "hash";
  }
  return null;
}

export interface SelectorOptions {
  strategy: Strategy;
  /** Failures before a node is taken out of rotation. */
  maxFails: number;
  /** How long a failed-out node stays out, in ms. */
  failTimeout: number;
}

/** gost's defaults: round robin, out after 1 failure, for 10 s. */
export const DEFAULT_SELECTOR: SelectorOptions = { strategy: "round", maxFails: 1, failTimeout: 10_000 };

/**
 * A hop's or forwarder's `selector:` (the CLI also copies these keys into service, hop and node
 * metadata, where they are known, not "unknown, ignored").
 */
export const selectorOptions = defineOptions({
  strategy: opt.oneOf("strategy", DEFAULT_SELECTOR.strategy, STRATEGIES),
  maxFails: opt.int("maxFails", DEFAULT_SELECTOR.maxFails, { min: 0 }),
  failTimeout: opt.duration("failTimeout", DEFAULT_SELECTOR.failTimeout),
});

/**
 * The selector a `selector:` mapping at `path` describes (undefined: gost's defaults). Every
 * wrong value is an error in `errors`, and that option keeps its default.
 */
export function selectorFrom(md: Metadata | undefined, path: string, errors: ConfigError[]): Selector {
  const o = selectorOptions.parseAll(md, path, errors);
  // oneOf returns a member of STRATEGIES, each of which has a canonical name.
  return new Selector({
    strategy: normalizeStrategy(o.strategy)!,
    maxFails: o.maxFails,
    failTimeout: o.failTimeout,
  });
}

/**
 * Orders candidates for one dial: the chosen node first, then the others that may still
 * be tried if it fails. Nodes currently failed-out come last, so a dial still succeeds
 * while any node is up, and an all-failed group is still tried rather than refused.
 */
export class Selector {
  #counter = 0;
  constructor(
    readonly opts: SelectorOptions = DEFAULT_SELECTOR,
    readonly random: () => number = Math.random,
  ) {}

  /** True when `n` is currently out of rotation. */
  isFailed(n: Selectable, now = Date.now()): boolean {
    const maxFails = n.fail?.maxFails ?? this.opts.maxFails;
    const failTimeout = n.fail?.failTimeout ?? this.opts.failTimeout;
    return maxFails > 0 && n.marker.fails >= maxFails && now - n.marker.lastFail < failTimeout;
  }

  /**
   * Candidates in the order to try them; `key` feeds the hash strategy. As in gost, backup
   * nodes are chosen from only when no other node is up; they are still tried before the
   * failed-out ones.
   */
  order<T extends Selectable>(nodes: readonly T[], key = "", now = Date.now()): T[] {
    if (nodes.length <= 1) return [...nodes];
    const alive = nodes.filter((n) => !this.isFailed(n, now));
    const dead = nodes.filter((n) => this.isFailed(n, now));
    const primary = alive.filter((n) => !n.backup);
    if (primary.length === alive.length || primary.length === 0) {
      return [...this.#arrange(alive, key), ...dead];
    }
    return [...this.#arrange(primary, key), ...alive.filter((n) => n.backup), ...dead];
  }

  /** The node to use now (first of {@link order}), or undefined for an empty group. */
  select<T extends Selectable>(nodes: readonly T[], key = "", now = Date.now()): T | undefined {
    return this.order(nodes, key, now)[0];
  }

  #arrange<T extends Selectable>(alive: T[], key: string): T[] {
    if (alive.length <= 1) return alive;
    let first: number;
    switch (this.opts.strategy) {
      case "fifo":
        return alive;
      case "round":
        first = this.#counter++ % alive.length;
        break;
      case "hash":
        first = crc32(new TextEncoder().encode(key)) % alive.length;
        break;
      case "rand": {
        const total = alive.reduce((s, n) => s + Math.max(0, n.weight ?? 1), 0);
        let r = this.random() * total;
        first = alive.length - 1;
        for (let i = 0; i < alive.length; i++) {
          r -= Math.max(0, alive[i].weight ?? 1);
          if (r < 0) {
            first = i;
            break;
          }
        }
        break;
      }
    }
    return [...alive.slice(first), ...alive.slice(0, first)];
  }
}
