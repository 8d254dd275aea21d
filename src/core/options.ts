/**
 * Typed component options read from gost's string-keyed metadata.
 *
 * Each component declares its options once (names with aliases, type, default); parsing
 * applies the default when a key is absent, rejects a value of the wrong type with a
 * message naming the key, the value and what was expected, and reports keys it does not
 * know. Keys are matched case-insensitively, as gost does.
 * @module
 */
import { ConfigError } from "./errors.ts";
import { parseDuration } from "./duration.ts";

/** Metadata as it comes from YAML/JSON or URL query parameters. */
export type Metadata = Record<string, unknown>;

/** One option: the names it is read from, how to parse it, and its default. */
export interface OptionSpec<T> {
  names: string[];
  kind: string;
  default: T;
  /** Returns the parsed value, or throws an Error whose message says what was expected. */
  parse(v: unknown): T;
  /**
   * Set by {@link opt.ignored}: the option is accepted for gost compatibility but does nothing
   * here, for this reason; giving it is a warning at start (see {@link metadataWarnings}).
   */
  ignored?: string;
}

type Schema = Record<string, OptionSpec<unknown>>;
/** The parsed, typed options of a schema. */
export type Options<S extends Schema> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

const names = (n: string | string[]) => (Array.isArray(n) ? n : [n]);

function boolOf(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (["true", "1", "yes", "on", "t"].includes(s)) return true;
    if (["false", "0", "no", "off", "f", ""].includes(s)) return false;
  }
  throw new Error("expected a boolean (true/false)");
}

function intOf(v: unknown): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n === "number" && Number.isInteger(n)) return n;
  throw new Error("expected an integer");
}

/** Option constructors. */
export const opt = {
  /**
   * An option gost reads that has no effect here: any value is accepted, the field is
   * `undefined`, and {@link metadataWarnings} says so with `why` when a config gives it.
   */
  ignored(n: string | string[], why: string): OptionSpec<undefined> {
    return { names: names(n), kind: "ignored", default: undefined, parse: () => undefined, ignored: why };
  },
  /**
   * `spec` without a default: the field is `undefined` unless the config gives it (for
   * per-node overrides of a group's setting, e.g. a node's own `maxFails`).
   */
  optional<T>(spec: OptionSpec<T>): OptionSpec<T | undefined> {
    return { ...spec, default: undefined };
  },
  bool(n: string | string[], def: boolean): OptionSpec<boolean> {
    return { names: names(n), kind: "boolean", default: def, parse: boolOf };
  },
  int(n: string | string[], def: number, range: { min?: number; max?: number } = {}): OptionSpec<number> {
    return {
      names: names(n),
      kind: "integer",
      default: def,
      parse(v) {
        const i = intOf(v);
        if (range.min !== undefined && i < range.min) throw new Error(`must be at least ${range.min}`);
        if (range.max !== undefined && i > range.max) throw new Error(`must be at most ${range.max}`);
        return i;
      },
    };
  },
  /** A duration in milliseconds; accepts Go duration strings and integer seconds. */
  duration(n: string | string[], defMs: number): OptionSpec<number> {
    return {
      names: names(n),
      kind: "duration",
      default: defMs,
      parse(v) {
        const ms = parseDuration(v);
        if (ms === null) throw new Error(`expected a duration like "5s", "300ms" or seconds as a number`);
        return ms;
      },
    };
  },
  string(n: string | string[], def: string): OptionSpec<string> {
    return {
      names: names(n),
      kind: "string",
      default: def,
      parse(v) {
        if (typeof v === "string") return v;
        if (typeof v === "number" || typeof v === "boolean") return String(v);
        throw new Error("expected a string");
      },
    };
  },
  /** One of a fixed set of strings (case-insensitive), returned lower-cased. */
  oneOf<T extends string>(n: string | string[], def: T, allowed: readonly T[]): OptionSpec<T> {
    return {
      names: names(n),
      kind: `one of ${allowed.join("|")}`,
      default: def,
      parse(v) {
        const s = String(v).trim().toLowerCase() as T;
        if (!allowed.includes(s)) throw new Error(`expected one of: ${allowed.join(", ")}`);
        return s;
      },
    };
  },
  /** A list: a YAML sequence or a comma-separated string. */
  list(n: string | string[], def: string[] = []): OptionSpec<string[]> {
    return {
      names: names(n),
      kind: "list",
      default: def,
      parse(v) {
        if (Array.isArray(v)) return v.map(String);
        if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter(Boolean);
        throw new Error("expected a list or a comma-separated string");
      },
    };
  },
  /** A string map (e.g. HTTP headers): a YAML mapping, or "k1:v1,k2:v2" in a URL. */
  map(n: string | string[]): OptionSpec<Record<string, string>> {
    return {
      names: names(n),
      kind: "map",
      default: {},
      parse(v) {
        if (v && typeof v === "object" && !Array.isArray(v)) {
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
        }
        if (typeof v === "string") {
          const out: Record<string, string> = {};
          for (const part of v.split(",")) {
            const i = part.indexOf(":");
            if (i <= 0) throw new Error(`expected "key:value" pairs, got "${part}"`);
            out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
          }
          return out;
        }
        throw new Error("expected a mapping of strings");
      },
    };
  },
};

/** Declares a component's options; the result parses metadata into typed values. */
export function defineOptions<S extends Schema>(schema: S): OptionSchema<S> {
  return new OptionSchema(schema);
}

/** A declared set of options. */
export class OptionSchema<S extends Schema> {
  readonly #lookup = new Map<string, string>();
  constructor(readonly schema: S) {
    for (const [field, spec] of Object.entries(schema)) {
      for (const n of spec.names) this.#lookup.set(n.toLowerCase(), field);
    }
  }

  /** True when `key` (any case) names one of these options. */
  knows(key: string): boolean {
    return this.#lookup.has(key.toLowerCase());
  }

  /** Why `key` (any case) is accepted without effect, or undefined when it is a working option. */
  ignoredWhy(key: string): string | undefined {
    const field = this.#lookup.get(key.toLowerCase());
    return field === undefined ? undefined : this.schema[field].ignored;
  }

  /**
   * Parses `md`. A wrong value throws a {@link ConfigError} at `path.key`; keys this schema
   * does not know are left for the caller (see {@link unknownKeys}).
   */
  parse(md: Metadata | undefined, path: string): Options<S> {
    const errors: ConfigError[] = [];
    const out = this.parseAll(md, path, errors);
    if (errors.length) throw errors[0];
    return out;
  }

  /**
   * Parses `md` as {@link parse} does, but adds every wrong value to `errors` (that option keeps
   * its default) instead of throwing at the first: for a section of several options, such as a
   * `selector:`, whose problems are all reported at once.
   */
  parseAll(md: Metadata | undefined, path: string, errors: ConfigError[]): Options<S> {
    const out: Record<string, unknown> = {};
    for (const [field, spec] of Object.entries(this.schema)) out[field] = spec.default;
    // The first name listed wins when several aliases are given.
    const seen = new Map<string, number>();
    for (const [key, value] of Object.entries(md ?? {})) {
      const field = this.#lookup.get(key.toLowerCase());
      if (!field || value === null || value === undefined) continue;
      const spec = this.schema[field];
      const rank = spec.names.findIndex((n) => n.toLowerCase() === key.toLowerCase());
      if (seen.has(field) && seen.get(field)! <= rank) continue;
      try {
        out[field] = spec.parse(value);
        seen.set(field, rank);
      } catch (err) {
        errors.push(
          new ConfigError(
            `${path}.${key}`,
            `invalid value ${JSON.stringify(value)}: ${(err as Error).message}`,
          ),
        );
      }
    }
    return out as Options<S>;
  }
}

/** Keys of `md` that none of `schemas` knows (case-insensitive). */
export function unknownKeys(md: Metadata | undefined, schemas: OptionSchema<Schema>[]): string[] {
  return Object.keys(md ?? {}).filter((k) => !schemas.some((s) => s.knows(k)));
}

/**
 * The start-up warnings for the metadata of one component group at `path` (a service's handler,
 * listener and own metadata; a node's connector, dialer and own metadata), each `[metadata,
 * place]`, the place relative to `path` (`handler.metadata`): keys
 * none of `schemas` knows, per place, and keys that the schemas knowing them all declare with
 * {@link opt.ignored}, once (the CLI copies a query key into every place of its group).
 */
export function metadataWarnings(
  path: string,
  places: readonly (readonly [Metadata | undefined, string])[],
  schemas: OptionSchema<Schema>[],
): string[] {
  const out: string[] = [];
  const told = new Set<string>();
  for (const [md, place] of places) {
    out.push(...unknownKeys(md, schemas).map((k) => `${path}.${place}.${k}: unknown option, ignored`));
    for (const k of Object.keys(md ?? {})) {
      const known = schemas.filter((s) => s.knows(k));
      if (known.length === 0 || told.has(k.toLowerCase())) continue;
      if (!known.every((s) => s.ignoredWhy(k) !== undefined)) continue;
      told.add(k.toLowerCase());
      out.push(
        `${path}.${place}.${k}: accepted for gost compatibility, no effect here: ${known[0].ignoredWhy(k)}`,
      );
    }
  }
  return out;
}
