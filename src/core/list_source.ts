/**
 * Where a policy list (authers, admissions, bypasses) gets its entries besides the inline ones:
 * gost's loaders. `file` (one entry per line) is read at start and, with `reload`, again every
 * period; `redis`, `http` and `plugin` are not implemented and are refused, so that a config
 * relying on them cannot run with an empty list.
 * @module
 */
import { parseDuration } from "./duration.ts";
import { ConfigError, errorMessage } from "./errors.ts";
import type { Logger } from "./log.ts";

/** The loaders of one list entry, as validated. */
export interface ListSource {
  /** The file path, when the entry has `file: {path}`. */
  file?: string;
  /** Re-read period in ms (0: read once); gost clamps it to at least one second. */
  reloadMs: number;
}

/** One line of a list file, numbered from 1. */
export interface Line {
  line: number;
  text: string;
}

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

/**
 * Reads `file`, `reload`, and refuses `redis`, `http`, `plugin` of a section entry at `path`
 * (e.g. `bypasses[2]`).
 */
export function parseListSource(cfg: Rec, path: string, errors: ConfigError[]): ListSource {
  const out: ListSource = { reloadMs: 0 };
  for (const key of ["redis", "http", "plugin"]) {
    if (cfg[key] !== undefined && cfg[key] !== null) {
      errors.push(
        new ConfigError(
          `${path}.${key}`,
          `the ${key} loader is not supported by gost-deno; refusing to start rather than run with its entries missing (use inline entries or file)`,
        ),
      );
    }
  }
  if (cfg.file !== undefined && cfg.file !== null) {
    const p = typeof cfg.file === "object" ? cfg.file.path : undefined;
    if (typeof p !== "string" || p === "") {
      errors.push(
        new ConfigError(`${path}.file`, `expected a mapping with a path (file: {path: /etc/gost/list.txt})`),
      );
    } else out.file = p;
  }
  if (cfg.reload !== undefined && cfg.reload !== null) {
    const ms = parseDuration(cfg.reload);
    if (ms === null) {
      errors.push(
        new ConfigError(`${path}.reload`, `invalid duration ${JSON.stringify(cfg.reload)} (e.g. "10s")`),
      );
    } else out.reloadMs = ms > 0 ? Math.max(ms, 1000) : 0;
  }
  return out;
}

/** Splits file text into numbered lines. */
export function splitLines(text: string): Line[] {
  return text.split(/\r?\n/).map((t, i) => ({ line: i + 1, text: t }));
}

/** Reads a list file now (at build); a missing or unreadable file is a config error at `path`. */
export function readListFileSync(file: string, path: string, errors: ConfigError[]): string | undefined {
  try {
    return Deno.readTextFileSync(file);
  } catch (err) {
    errors.push(new ConfigError(`${path}.file.path`, `cannot read ${file}: ${errorMessage(err)}`));
    return undefined;
  }
}

/**
 * Re-reads a list file every `periodMs` and hands its lines to `apply` when its content changed.
 * A file that cannot be read or parsed keeps the entries loaded before (logged). The timer does
 * not keep the process alive.
 */
export class FileWatch {
  #timer?: ReturnType<typeof setInterval>;
  #last: string;
  #busy = false;

  constructor(
    readonly file: string,
    periodMs: number,
    initialText: string,
    readonly apply: (lines: Line[]) => void,
    readonly log: Logger,
  ) {
    this.#last = initialText;
    if (periodMs <= 0) return;
    const timer = setInterval(() => this.check(), periodMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Reads the file once and applies it when it changed (the timer's step; tests call it). */
  async check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const text = await Deno.readTextFile(this.file);
      if (text === this.#last) return;
      this.apply(splitLines(text));
      this.#last = text;
      this.log.info(`reloaded ${this.file}`);
    } catch (err) {
      this.log.warn(`reload ${this.file}: ${errorMessage(err)}; keeping the entries loaded before`);
    } finally {
      this.#busy = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** The entries of a pattern list file: `#` starts a comment anywhere, blank lines are skipped. */
export function patternLines(lines: Line[]): Line[] {
  const out: Line[] = [];
  for (const l of lines) {
    const hash = l.text.indexOf("#");
    const text = (hash >= 0 ? l.text.slice(0, hash) : l.text).trim();
    if (text) out.push({ line: l.line, text });
  }
  return out;
}
