/**
 * Structured logging with gost's field names: one JSON (or text) line per event.
 * @module
 */

/** Levels in increasing verbosity. */
export const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type Level = typeof LEVELS[number];

/** Fields attached to a log line (service, handler, client, dst, inputBytes, …). */
export type Fields = Record<string, unknown>;

/** Where lines go: a function that writes one complete line. */
export type Sink = (line: string) => void;

const encoder = new TextEncoder();

/** Writes lines synchronously to stderr (a crash still leaves the lines before it). */
export const stderrSink: Sink = (line) => {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
};

/** A logger carrying fixed fields; `with()` derives one with more. */
export class Logger {
  constructor(
    readonly state: { level: Level; format: "json" | "text"; sink: Sink },
    readonly fields: Fields = {},
  ) {}

  /** A logger whose lines also carry `fields`. */
  with(fields: Fields): Logger {
    return new Logger(this.state, { ...this.fields, ...fields });
  }

  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) <= LEVELS.indexOf(this.state.level);
  }

  log(level: Level, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    const all: Fields = { ...this.fields, ...fields };
    let line: string;
    if (this.state.format === "json") {
      line = JSON.stringify({ level, msg, ...all, time: new Date().toISOString() });
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      line = `${new Date().toISOString()} ${level} ${msg}${kv.length ? " " + kv.join(" ") : ""}`;
    }
    try {
      this.state.sink(line);
    } catch {
      // a closed stderr must not take the proxy down
    }
  }

  error(msg: string, fields?: Fields): void {
    this.log("error", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log("warn", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log("info", msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.log("debug", msg, fields);
  }
  trace(msg: string, fields?: Fields): void {
    this.log("trace", msg, fields);
  }
}

/** The process-wide root logger; `configureLog` changes it in place. */
export const rootLogger = new Logger({ level: "info", format: "json", sink: stderrSink });

/** Sets level, format and sink of the root logger (and every logger derived from it). */
export function configureLog(opts: { level?: Level; format?: "json" | "text"; sink?: Sink }): void {
  if (opts.level) rootLogger.state.level = opts.level;
  if (opts.format) rootLogger.state.format = opts.format;
  if (opts.sink) rootLogger.state.sink = opts.sink;
}
