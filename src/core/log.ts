/**
 * Structured logging with gost's field names: one JSON (or text) line per event, and gost's
 * `log` config section (level, format json|text, output stderr|stdout|none|<file>).
 * @module
 */
import { formatNanos } from "./duration.ts";
import { ConfigError } from "./errors.ts";

/** Levels in increasing verbosity. */
export const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type Level = typeof LEVELS[number];

/** Fields attached to a log line (service, handler, client, dst, inputBytes, …). */
export type Fields = Record<string, unknown>;

/**
 * A log field holding a time span, as gost's Go time.Duration: integer nanoseconds in JSON lines,
 * Go's notation ("5.567ms") in text lines.
 */
export class LogDuration {
  /** Whole nanoseconds. */
  readonly ns: number;
  /** `ms` may be fractional (a difference of performance.now() values). */
  constructor(ms: number) {
    this.ns = Math.round(ms * 1e6);
  }
  toJSON(): number {
    return this.ns;
  }
  toString(): string {
    return formatNanos(this.ns);
  }
}

/** The current second as `Date.prototype.toISOString` starts it ("2026-12-03T12:10:23."), and which second. */
let isoSecond = -1;
let isoPrefix = "";

/**
 * `new Date().toISOString()`, with the date and time of day formatted once per second (~1.5–2.3 µs
 * each time in Deno 2.9; a line per connection).
 */
export function isoNow(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString();
    // Years beyond 9999 (or before 0) do not have the fixed shape: format them whole.
    if (iso.length !== 24) return new Date(now).toISOString();
    isoSecond = second;
    isoPrefix = iso.slice(0, 20);
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

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
    let line: string;
    if (this.state.format === "json") {
      // One object, not a merged copy spread again: this runs for every connection. A duration
      // goes in as its number: a `toJSON` sends JSON.stringify down its slow path (~2.5 µs a line).
      const record: Fields = { level, msg, ...this.fields, ...fields, time: isoNow() };
      for (const k in fields) {
        const v = fields[k];
        if (v instanceof LogDuration) record[k] = v.ns;
      }
      line = JSON.stringify(record);
    } else {
      const kv = Object.entries({ ...this.fields, ...fields }).map(([k, v]) =>
        `${k}=${typeof v === "string" || v instanceof LogDuration ? v : JSON.stringify(v)}`
      );
      line = `${isoNow()} ${level} ${msg}${kv.length ? " " + kv.join(" ") : ""}`;
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

/** Writes lines synchronously to stdout. */
export const stdoutSink: Sink = (line) => {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
};

/** The `log` section, validated: what {@link applyLogSettings} installs. */
export interface LogSettings {
  level: Level;
  format: "json" | "text";
  /** `stderr` (default), `stdout`, `none`, or a file path (appended to). */
  output: string;
}

/** gost's defaults: info, json, stderr. */
export const DEFAULT_LOG: LogSettings = { level: "info", format: "json", output: "stderr" };

/** The one place gost may write files: log files go here unless more write permission was granted. */
export const LOG_DIR = "/var/log/gost";

/**
 * Validates a `log` section (`{level, format, output}`, as gost spells them). Errors name
 * `log.<key>`; a file output is checked for write permission here, so a config that cannot
 * log where it asks is refused before anything starts (not at the first log line).
 */
export function parseLogConfig(
  cfg: unknown,
): { settings?: LogSettings; errors: ConfigError[]; warnings: string[] } {
  const errors: ConfigError[] = [];
  const warnings: string[] = [];
  if (cfg === undefined || cfg === null) return { settings: { ...DEFAULT_LOG }, errors, warnings };
  if (typeof cfg !== "object" || Array.isArray(cfg)) {
    return { errors: [new ConfigError("log", "expected a mapping with level, format, output")], warnings };
  }
  const c = cfg as Record<string, unknown>;
  const settings: LogSettings = { ...DEFAULT_LOG };
  const str = (key: string): string | undefined => {
    const v = c[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") {
      errors.push(new ConfigError(`log.${key}`, `expected a string, got ${JSON.stringify(v)}`));
      return undefined;
    }
    return v;
  };
  const level = str("level")?.toLowerCase();
  if (level !== undefined) {
    if ((LEVELS as readonly string[]).includes(level)) settings.level = level as Level;
    else {
      errors.push(
        new ConfigError(
          "log.level",
          `unknown level ${JSON.stringify(c.level)} (allowed: ${LEVELS.join(", ")})`,
        ),
      );
    }
  }
  const format = str("format")?.toLowerCase();
  if (format !== undefined) {
    if (format === "json" || format === "text") settings.format = format;
    else {
      errors.push(
        new ConfigError("log.format", `unknown format ${JSON.stringify(c.format)} (allowed: json, text)`),
      );
    }
  }
  const output = str("output");
  if (output !== undefined) {
    settings.output = ["stderr", "stdout", "none"].includes(output.toLowerCase())
      ? output.toLowerCase()
      : output;
    if (!["stderr", "stdout", "none"].includes(settings.output)) {
      const problem = cannotWrite(settings.output);
      if (problem) errors.push(new ConfigError("log.output", problem));
    }
  }
  if (c.rotation !== undefined && c.rotation !== null) {
    warnings.push("log.rotation: not supported, ignored (rotate with logrotate; SIGHUP reopens the file)");
  }
  for (const k of Object.keys(c)) {
    if (!["level", "format", "output", "rotation"].includes(k)) {
      warnings.push(`log.${k}: unknown option, ignored`);
    }
  }
  return errors.length ? { errors, warnings } : { settings, errors, warnings };
}

/** Why `path` cannot be a log file, or undefined when it can. */
function cannotWrite(path: string): string | undefined {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync({ name: "write", path }).state;
  } catch {
    state = "denied";
  }
  if (state !== "granted") {
    return `cannot write the log file ${JSON.stringify(path)}: gost may write files only under ${LOG_DIR}/ ` +
      `(its one write permission); use a file there, or output: stderr and let systemd or the shell ` +
      `redirect it, or run from source with --allow-write=${path}`;
  }
  try {
    if (Deno.statSync(path).isDirectory) return `${JSON.stringify(path)} is a directory, not a file`;
  } catch {
    // does not exist yet: it will be created
  }
  return undefined;
}

let openFile: Deno.FsFile | undefined;

/**
 * Installs validated settings on the root logger. A file output is (re)opened for appending,
 * so calling this again after logrotate moved the file starts a new one. Throws when the
 * file cannot be opened (the previous sink stays).
 */
export function applyLogSettings(s: LogSettings): void {
  let sink: Sink;
  let file: Deno.FsFile | undefined;
  if (s.output === "stderr") sink = stderrSink;
  else if (s.output === "stdout") sink = stdoutSink;
  else if (s.output === "none") sink = () => {};
  else {
    try {
      file = Deno.openSync(s.output, { append: true, create: true });
    } catch (err) {
      throw new ConfigError(
        "log.output",
        `cannot open ${JSON.stringify(s.output)}: ${(err as Error).message}`,
      );
    }
    const f = file;
    sink = (line) => {
      const bytes = encoder.encode(line + "\n");
      for (let off = 0; off < bytes.length;) off += f.writeSync(bytes.subarray(off));
    };
  }
  configureLog({ level: s.level, format: s.format, sink });
  const previous = openFile;
  openFile = file;
  try {
    previous?.close();
  } catch {
    // already closed
  }
}

/**
 * Lets a repeating event's log line through at most once per `ms` (a flood of refusals or
 * failed accepts must not become a flood of lines), counting the ones it held back.
 */
export class Throttle {
  #next = 0;
  #held = 0;
  constructor(readonly ms = 10_000) {}

  /** -1 when this event is held back; else how many were held back since the last one let through. */
  pass(now = performance.now()): number {
    if (now < this.#next) {
      this.#held++;
      return -1;
    }
    this.#next = now + this.ms;
    const held = this.#held;
    this.#held = 0;
    return held;
  }
}

/** " (and N more like it)" for a line a {@link Throttle} let through, else "". */
export function heldBack(n: number): string {
  return n > 0 ? ` (and ${n} more like it in the last interval)` : "";
}
