/**
 * The config side of a named pattern list (`bypasses:` and `admissions:` entries): name,
 * `whitelist` (or gost's deprecated `reverse`), inline `matchers`, a `file` with one pattern per
 * line, and its `reload` period. Every malformed pattern is a config error naming where it is.
 * @module
 */
import { ConfigError } from "./errors.ts";
import {
  type Line,
  type ListSource,
  parseListSource,
  patternLines,
  readListFileSync,
  splitLines,
} from "./list_source.ts";
import { parsePattern, type Pattern } from "./matcher.ts";

/** Says why a parsed pattern is not allowed here (admissions take no ports), or undefined. */
export type PatternCheck = (p: Pattern) => string | undefined;

/** One validated list entry. */
export interface PatternListEntry {
  name: string;
  /** Config path of the entry (`bypasses[2]`). */
  path: string;
  whitelist: boolean;
  /** `network` (bypasses only): tcp or udp, "" for both. */
  network: string;
  /** Inline patterns (parsed). */
  inline: Pattern[];
  /** Patterns read from the file at build. */
  fromFile: Pattern[];
  source: ListSource;
  /** The file's text as read at build (the starting point of a reload watch). */
  fileText?: string;
  /** The entry as configured (for keys of one kind, e.g. a bypass's `network`). */
  cfg: Rec;
}

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function compile(text: string, check: PatternCheck | undefined): Pattern {
  const p = parsePattern(text);
  const why = check?.(p);
  if (why) throw new Error(`matcher ${JSON.stringify(text)}: ${why}`);
  return p;
}

/** Parses the patterns of a list file; throws naming the file and line of the first bad one. */
export function parseFilePatterns(file: string, lines: Line[], check?: PatternCheck): Pattern[] {
  return patternLines(lines).map((l) => {
    try {
      return compile(l.text, check);
    } catch (err) {
      throw new Error(`${file} line ${l.line}: ${(err as Error).message}`);
    }
  });
}

/** Validates a `bypasses:` / `admissions:` section (`key`), collecting errors with their paths. */
export function parsePatternLists(
  section: unknown,
  key: string,
  errors: ConfigError[],
  check?: PatternCheck,
): PatternListEntry[] {
  if (section === undefined || section === null) return [];
  if (!Array.isArray(section)) {
    errors.push(new ConfigError(key, "expected a list of entries with name and matchers"));
    return [];
  }
  const out: PatternListEntry[] = [];
  const names = new Set<string>();
  section.forEach((cfg, i) => {
    const path = `${key}[${i}]`;
    if (!isRecord(cfg)) {
      return errors.push(new ConfigError(path, "expected a mapping with name and matchers"));
    }
    if (typeof cfg.name !== "string" || !cfg.name) {
      return errors.push(new ConfigError(`${path}.name`, "needs a name"));
    }
    if (names.has(cfg.name)) {
      errors.push(new ConfigError(`${path}.name`, `duplicate name ${JSON.stringify(cfg.name)}`));
    }
    names.add(cfg.name);
    const entry: PatternListEntry = {
      name: cfg.name,
      path,
      whitelist: cfg.whitelist === true || cfg.reverse === true,
      network: "",
      inline: [],
      fromFile: [],
      source: parseListSource(cfg, path, errors),
      cfg,
    };
    for (const flag of ["whitelist", "reverse"]) {
      if (cfg[flag] !== undefined && typeof cfg[flag] !== "boolean") {
        errors.push(
          new ConfigError(`${path}.${flag}`, `expected true or false, got ${JSON.stringify(cfg[flag])}`),
        );
      }
    }
    const matchers = cfg.matchers ?? [];
    if (!Array.isArray(matchers)) {
      errors.push(new ConfigError(`${path}.matchers`, "expected a list of patterns"));
    } else {
      matchers.forEach((m, mi) => {
        try {
          entry.inline.push(compile(String(m), check));
        } catch (err) {
          errors.push(new ConfigError(`${path}.matchers[${mi}]`, (err as Error).message));
        }
      });
    }
    if (entry.source.file) {
      const text = readListFileSync(entry.source.file, path, errors);
      if (text !== undefined) {
        entry.fileText = text;
        try {
          entry.fromFile = parseFilePatterns(entry.source.file, splitLines(text), check);
        } catch (err) {
          errors.push(new ConfigError(`${path}.file.path`, (err as Error).message));
        }
      }
    }
    out.push(entry);
  });
  return out;
}

/** Resolves a reference field (`bypass: a` and/or `bypasses: [a, b]`) at `path` to entries. */
export function lookupRefs<T>(
  one: unknown,
  many: unknown,
  path: string,
  keys: [string, string],
  defined: Map<string, T>,
  what: string,
  errors: ConfigError[],
): T[] {
  const out: T[] = [];
  const take = (name: unknown, p: string) => {
    if (name === undefined || name === null || name === "") return;
    const found = defined.get(String(name));
    if (found === undefined) {
      errors.push(
        new ConfigError(
          p,
          `${what} ${JSON.stringify(name)} does not exist (defined: ${
            [...defined.keys()].join(", ") || "none"
          })`,
        ),
      );
    } else if (!out.includes(found)) out.push(found);
  };
  take(one, `${path}.${keys[0]}`);
  if (many !== undefined && many !== null) {
    if (!Array.isArray(many)) errors.push(new ConfigError(`${path}.${keys[1]}`, "expected a list of names"));
    else many.forEach((n, i) => take(n, `${path}.${keys[1]}[${i}]`));
  }
  return out;
}
