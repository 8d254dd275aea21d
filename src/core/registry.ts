/**
 * A small explicit registry per component kind: name → factory, each loaded on first use.
 *
 * Factories are registered as loaders (`() => import("./relay.ts").then(…)`), so a process
 * only loads the protocols its config names: a plain TCP forward never loads SSH, KCP or TLS
 * code, which keeps start-up fast and idle memory low. `load()` runs before a config is built;
 * `get()` is then synchronous.
 * @module
 */
import { ConfigError } from "./errors.ts";
import type { OptionSchema } from "./options.ts";

/** A component factory: its declared options and a constructor taking them parsed. */
export interface Factory<Init, T> {
  // deno-lint-ignore no-explicit-any
  options: OptionSchema<any>;
  // deno-lint-ignore no-explicit-any
  create(init: Init, opts: any): T;
}

/** Name → factory for one component kind (listener, handler, dialer, connector). */
export class Registry<F> {
  readonly #loaders = new Map<string, () => Promise<F>>();
  readonly #loaded = new Map<string, F>();
  constructor(readonly kind: string) {}

  /** Registers a factory, or a loader that imports its module when the type is first used. */
  register(name: string, factory: F | (() => Promise<F>)): void {
    if (this.#loaders.has(name)) throw new Error(`${this.kind} "${name}" registered twice`);
    if (typeof factory === "function") this.#loaders.set(name, factory as () => Promise<F>);
    else {
      this.#loaders.set(name, () => Promise.resolve(factory));
      this.#loaded.set(name, factory);
    }
  }

  has(name: string): boolean {
    return this.#loaders.has(name);
  }

  names(): string[] {
    return [...this.#loaders.keys()].sort();
  }

  /** Loads the factories of `names` that exist (unknown names are left for `get` to report). */
  async load(names: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(names)].map(async (name) => {
      const loader = this.#loaders.get(name);
      if (loader && !this.#loaded.has(name)) this.#loaded.set(name, await loader());
    }));
  }

  /** Loads every registered factory (tests, and listing what exists). */
  loadAll(): Promise<void> {
    return this.load(this.#loaders.keys());
  }

  /** The factory for `name`, or a {@link ConfigError} at `path` listing the known names. */
  get(name: string, path: string): F {
    const f = this.#loaded.get(name);
    if (f) return f;
    if (this.#loaders.has(name)) {
      throw new Error(`internal: ${this.kind} "${name}" used before it was loaded (call load() first)`);
    }
    throw new ConfigError(
      path,
      `unknown ${this.kind} type ${JSON.stringify(name)} (supported: ${this.names().join(", ")})`,
    );
  }
}
