/**
 * Bypasses: tests on the target address of a request (gost's `bypasses:`). In the default
 * blacklist mode a matching target is bypassed; with `whitelist: true` (a `~` prefix on the
 * command line) every target that does not match is. What "bypassed" means depends on where the
 * bypass stands: at a service the request is refused (each handler answers with its protocol's
 * refusal, see `BypassError`); at a hop or a chain node that hop or node is skipped (the request
 * goes direct, or through another node).
 * @module
 */
import { AddressMatcher, type Pattern } from "../core/matcher.ts";
import type { Network } from "../core/types.ts";

/** Decides, for a target, whether it is bypassed. */
export interface Bypass {
  /** True when `addr` (`host:port`) over `network` is bypassed. */
  contains(network: Network, addr: string): boolean;
  readonly whitelist: boolean;
}

/** One `bypasses:` entry: a matcher list whose entries may be swapped by a file reload. */
export class MatcherBypass implements Bypass {
  #matcher: AddressMatcher;

  constructor(
    readonly name: string,
    patterns: readonly Pattern[],
    readonly whitelist = false,
    /** `network: tcp|udp`: the bypass applies to that network only. */
    readonly network = "",
  ) {
    this.#matcher = new AddressMatcher(patterns);
  }

  /** Number of entries. */
  get size(): number {
    return this.#matcher.size;
  }

  /** Replaces the entries (a reloaded file); requests from then on see the new ones. */
  replace(patterns: readonly Pattern[]): void {
    this.#matcher = new AddressMatcher(patterns);
  }

  contains(network: Network, addr: string): boolean {
    if (!addr) return false;
    // A bypass for another network does not apply (gost: the request goes on).
    if (this.network && this.network !== network) return false;
    const matched = this.#matcher.matchAddr(addr);
    // An empty whitelist lets nothing through: a list whose file emptied refuses rather than opens.
    return this.whitelist ? !matched : matched;
  }
}

/**
 * Several bypasses at one place (`bypass` plus `bypasses`), combined as gost does: bypassed when
 * every whitelist bypasses the target, or else when any blacklist does.
 */
export class BypassGroup implements Bypass {
  readonly whitelist = false;
  readonly #white: Bypass[];
  readonly #black: Bypass[];

  constructor(readonly members: readonly Bypass[]) {
    this.#white = members.filter((b) => b.whitelist);
    this.#black = members.filter((b) => !b.whitelist);
  }

  contains(network: Network, addr: string): boolean {
    if (this.#white.length && this.#white.every((b) => b.contains(network, addr))) return true;
    return this.#black.some((b) => b.contains(network, addr));
  }
}

/** One bypass for a list of them: undefined for none, the bypass itself for one. */
export function groupBypasses(list: readonly Bypass[]): Bypass | undefined {
  if (list.length === 0) return undefined;
  return list.length === 1 ? list[0] : new BypassGroup(list);
}
