/**
 * Admissions: tests on the client address of every accepted connection (gost's `admissions:`),
 * before a byte of it is read. Blacklist by default (a matching client is refused); with
 * `whitelist: true` (`~` on the command line) only matching clients are admitted. Entries are
 * IPs, CIDRs, IP ranges and host names; a name is resolved to its addresses when the service
 * starts and again every `reload` period (as gost resolves at each load).
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { AddressMatcher, parseIP, type Pattern } from "../core/matcher.ts";

/** Decides whether a client may connect. */
export interface Admission {
  /** True when the client at `remote` (`host:port`) is admitted. */
  admit(remote: string): boolean;
  /** Resolves the names among the entries; the service awaits it before it listens. */
  ready(): Promise<void>;
  close(): void;
}

/** Resolves a host name to its addresses (A and AAAA, /etc/hosts included). */
export type Resolve = (name: string) => Promise<string[]>;

/**
 * The system's resolver (`node:dns`, for /etc/hosts and nsswitch as gost's Go resolver reads
 * them), loaded only when a name is resolved: a process's first `node:` module costs ~5 MB.
 */
const systemResolve: Resolve = async (name) => {
  const { lookup } = await import("node:dns/promises");
  return (await lookup(name, { all: true })).map((a) => a.address);
};

/** One `admissions:` entry. */
export class MatcherAdmission implements Admission {
  #matcher = new AddressMatcher([]);
  #patterns: readonly Pattern[];
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly name: string,
    patterns: readonly Pattern[],
    readonly whitelist: boolean,
    readonly log: Logger,
    /** Re-resolve names this often (ms; 0: at start only). */
    readonly reloadMs = 0,
    readonly resolve: Resolve = systemResolve,
  ) {
    this.#patterns = patterns;
    if (!patterns.some((p) => p.kind === "domain")) this.#matcher = new AddressMatcher(patterns);
  }

  admit(remote: string): boolean {
    const matched = this.#matcher.matchAddr(remote);
    return this.whitelist ? matched : !matched;
  }

  /** Replaces the entries (a reloaded file) and resolves their names. */
  async replace(patterns: readonly Pattern[]): Promise<void> {
    this.#patterns = patterns;
    this.#matcher = await this.#compile(patterns);
  }

  async ready(): Promise<void> {
    if (!this.#patterns.some((p) => p.kind === "domain")) return;
    // A name that cannot be resolved at start stops the start: ignoring it would admit the client
    // a blacklist names, and a whitelist would silently shrink.
    this.#matcher = await this.#compile(this.#patterns);
    if (this.reloadMs > 0 && this.#timer === undefined) {
      const timer = setInterval(() => this.#refresh(), this.reloadMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  async #refresh(): Promise<void> {
    try {
      this.#matcher = await this.#compile(this.#patterns);
    } catch (err) {
      this.log.warn(`admission ${this.name}: ${errorMessage(err)}; keeping the addresses resolved before`);
    }
  }

  async #compile(patterns: readonly Pattern[]): Promise<AddressMatcher> {
    const out: Pattern[] = [];
    for (const p of patterns) {
      if (p.kind !== "domain") {
        out.push(p);
        continue;
      }
      let addrs: string[];
      try {
        addrs = await this.resolve(p.name);
      } catch (err) {
        throw new Error(`admission ${this.name}: cannot resolve ${p.name}: ${errorMessage(err)}`);
      }
      for (const a of addrs) {
        const ip = parseIP(a);
        if (ip) out.push({ kind: "ip", ip, ports: null });
      }
      this.log.debug(`admission ${this.name}: ${p.name} -> ${addrs.join(", ")}`);
    }
    return new AddressMatcher(out);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** Several admissions of one service: any refusal refuses. */
export class AdmissionGroup implements Admission {
  constructor(readonly members: readonly Admission[]) {}

  admit(remote: string): boolean {
    for (const a of this.members) if (!a.admit(remote)) return false;
    return true;
  }

  async ready(): Promise<void> {
    await Promise.all(this.members.map((a) => a.ready()));
  }

  close(): void {
    // The members belong to the runtime that built them; it closes them.
  }
}
