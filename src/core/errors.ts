/**
 * Errors that name what was wrong and where.
 * @module
 */

/**
 * A configuration problem: `path` locates it (`services[1].handler.type`), the message says
 * what is wrong and what would be allowed. `line` is the config file's line when known.
 */
export class ConfigError extends Error {
  line?: number;
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = "ConfigError";
  }
}

/**
 * A file the config names that cannot be read here. Starting refuses it like any config error;
 * `-O` only prints the config, so it names the file as a warning (the config may be meant for
 * another machine).
 */
export class UnreadableFileError extends ConfigError {
  /** Further files of the same component that could not be read either (see `readEach`). */
  others: UnreadableFileError[] = [];
  constructor(path: string, readonly file: string, message: string) {
    super(path, message);
    this.name = "UnreadableFileError";
  }
}

/** Several configuration problems found in one pass. */
export class ConfigErrors extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => (e.line ? `line ${e.line}: ` : "") + e.message).join("\n"));
    this.name = "ConfigErrors";
  }
}

/** A failure to reach something (a node, a target), with the address that failed. */
export class DialError extends Error {
  constructor(readonly addr: string, cause: unknown) {
    super(`dial ${addr}: ${errorMessage(cause)}`, { cause });
    this.name = "DialError";
  }
}

/**
 * A request whose target a service-level bypass refuses (`bypass`/`bypasses` on the service).
 * The router throws it before dialing; each handler answers with its protocol's refusal (HTTP
 * 403, relay Forbidden, socks4 Rejected; socks5 closes without a reply, as gost 3.2.6 was
 * measured to do).
 */
export class BypassError extends Error {
  constructor(readonly addr: string) {
    super(`bypass: ${addr} is refused by the service's bypass`);
    this.name = "BypassError";
  }
}

/** The text of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
