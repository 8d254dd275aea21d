/**
 * Where a limiter's lines come from: inline `limits:` and a `file` (one limit a line, `#`
 * comments), the file's lines winning for a scope both give, as in gost. With `reload` the file
 * is read again every period (1 s at least) while a service using the limiter runs; a file that
 * became unreadable or wrong is logged and the last good limits stay (never none).
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { fileLines, LimitError } from "./limits.ts";

/** Parses one line into a limit; null for a blank one; throws {@link LimitError}. */
export type LineParser<L> = (line: string) => L | null;

/** The limits in a file's text, or the first bad line (with its number). */
export function parseFile<L>(text: string, file: string, parse: LineParser<L>): L[] {
  const out: L[] = [];
  for (const { line, text: t } of fileLines(text)) {
    try {
      const l = parse(t);
      if (l) out.push(l);
    } catch (err) {
      throw new LimitError(
        t,
        `${file} line ${line}: ${errorMessage(err).replace(/^invalid limit "[^"]*": /, "")}`,
      );
    }
  }
  return out;
}

/** A limits file read again every `periodMs` while retained. */
export class FileReloader<L> {
  #users = 0;
  #timer?: ReturnType<typeof setInterval>;
  #text: string;
  #busy = false;

  constructor(
    readonly path: string,
    readonly periodMs: number,
    /** The text read at start (already applied). */
    text: string,
    readonly parse: LineParser<L>,
    readonly apply: (fileLimits: L[]) => void,
    readonly log: Logger,
  ) {
    this.#text = text;
  }

  /** A service using the limiter started: begin watching (the first one starts the timer). */
  retain(): void {
    if (this.#users++ === 0 && this.periodMs > 0) {
      const timer = setInterval(() => this.check(), Math.max(1000, this.periodMs));
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** A service using the limiter closed: the last one stops the timer. */
  release(): void {
    if (this.#users > 0 && --this.#users === 0) clearInterval(this.#timer);
  }

  /** Reads the file now; applies it when its text changed. */
  async check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const text = await Deno.readTextFile(this.path);
      if (text === this.#text) return;
      const limits = parseFile(text, this.path, this.parse);
      this.#text = text;
      this.apply(limits);
      this.log.info(`reload: ${limits.length} limit(s) from ${this.path}`);
    } catch (err) {
      this.log.warn(`reload: ${errorMessage(err)}; the previous limits stay`);
    } finally {
      this.#busy = false;
    }
  }
}
