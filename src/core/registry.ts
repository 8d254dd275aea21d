/**
 * A small explicit registry per component kind: name → factory.
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
  readonly #entries = new Map<string, F>();
  constructor(readonly kind: string) {}

  register(name: string, factory: F): void {
    if (this.#entries.has(name)) throw new Error(`${this.kind} "${name}" registered twice`);
    this.#entries.set(name, factory);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** The factory for `name`, or a {@link ConfigError} at `path` listing the known names. */
  get(name: string, path: string): F {
    const f = this.#entries.get(name);
    if (!f) {
      throw new ConfigError(
        path,
        `unknown ${this.kind} type ${JSON.stringify(name)} (supported: ${this.names().join(", ")})`,
      );
    }
    return f;
  }
}
