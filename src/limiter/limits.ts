/**
 * gost's limit lines, as `limiters:`, `climiters:` and `rlimiters:` write them (inline in
 * `limits:` or one a line in a `file`):
 *
 * | kind | line | meaning |
 * |---|---|---|
 * | traffic | `SCOPE IN [OUT]` | bytes per second the service receives from / sends to clients |
 * | climiter | `SCOPE N` | concurrent connections |
 * | rlimiter | `SCOPE R` | connections (requests) per second, R may be a fraction |
 *
 * SCOPE is `$` (the whole service), `$$` (each connection for traffic, each client IP for the
 * other two), an IP or a CIDR. Rates take gost's byte units, all 1024-based and case-sensitive
 * (`B`, `KB`=`KiB`, `MB`=`MiB`, `GB`, `TB`, `PB`, `EB`; `1.5MB`, `1MB512KB`); `0` or a
 * negative rate means no limit in that direction.
 *
 * gost skips a line it cannot read (a rate without unit, an unknown scope), which leaves that
 * client unlimited; here every such line is an error, so a limit is never silently lost.
 * @module
 */

/** A limit line that cannot be understood; the message says why. */
export class LimitError extends Error {
  constructor(line: string, why: string) {
    super(`invalid limit ${JSON.stringify(line)}: ${why}`);
    this.name = "LimitError";
  }
}

/** Where a limit applies: `$` service, `$$` per connection / per IP, or an IP or CIDR. */
export type Scope = "$" | "$$" | string;

/** A traffic limit: bytes per second in and out (0 = no limit that way). */
export interface TrafficLimit {
  scope: Scope;
  in: number;
  out: number;
}

/** A climiter or rlimiter limit. */
export interface CountLimit {
  scope: Scope;
  limit: number;
}

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
const OLD = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
const unitMap = (names: string[]) => new Map(names.map((u, i) => [u, 1024 ** i]));
const UNIT_MAPS = [unitMap(BINARY), unitMap(OLD)];

/**
 * Parses a byte quantity as gost does (alecthomas/units `ParseBase2Bytes`): a sign, then one or
 * more `number unit` parts of one unit family. Returns null when it is not one.
 */
export function parseBytes(s: string): number | null {
  let rest = s;
  let sign = 1;
  if (rest[0] === "+" || rest[0] === "-") {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return null;
  for (const units of UNIT_MAPS) {
    let total = 0;
    let ok = true;
    const part = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
    for (part.lastIndex = 0; part.lastIndex < rest.length && ok;) {
      const m = part.exec(rest);
      const unit = m ? units.get(m[3]) : undefined;
      if (!m || m[0] === "" || (m[1] === "" && !m[2]) || unit === undefined) ok = false;
      else total += Number(`${m[1] || "0"}.${m[2] || "0"}`) * unit;
    }
    if (ok) return Math.trunc(sign * total);
  }
  return null;
}

/** The fields of a line (tabs count as spaces); empty for a blank line. */
function fields(line: string): string[] {
  return line.replaceAll("\t", " ").split(" ").filter((f) => f !== "");
}

/** Checks a scope: `$`, `$$`, or what `isAddress` accepts (an IP or a CIDR). */
function checkScope(line: string, scope: string, isAddress: (s: string) => boolean): void {
  if (scope === "$" || scope === "$$" || isAddress(scope)) return;
  throw new LimitError(line, `unknown scope ${JSON.stringify(scope)} (expected $, $$, an IP or a CIDR)`);
}

/** Parses a traffic line `SCOPE IN [OUT]`; null for a blank line. */
export function parseTrafficLimit(line: string, isAddress: (s: string) => boolean): TrafficLimit | null {
  const f = fields(line);
  if (f.length === 0) return null;
  if (f.length < 2 || f.length > 3) {
    throw new LimitError(line, 'expected SCOPE IN [OUT], e.g. "$ 1MB 2MB" or "10.0.0.0/8 512KB"');
  }
  checkScope(line, f[0], isAddress);
  const rate = (s: string | undefined, dir: string) => {
    if (s === undefined) return 0;
    const n = parseBytes(s);
    if (n === null) {
      throw new LimitError(
        line,
        `${dir} rate ${
          JSON.stringify(s)
        } is not a byte quantity (a number and a unit: B, KB, MB, GB, TB; 1KB = 1024 B)`,
      );
    }
    return Math.max(0, n);
  };
  return { scope: f[0], in: rate(f[1], "input"), out: rate(f[2], "output") };
}

/** Parses a climiter (`integer`) or rlimiter (`number`, per second) line; null for a blank line. */
export function parseCountLimit(
  line: string,
  kind: "climiter" | "rlimiter",
  isAddress: (s: string) => boolean,
): CountLimit | null {
  const f = fields(line);
  if (f.length === 0) return null;
  const what = kind === "climiter" ? "connections" : "requests per second";
  if (f.length !== 2) {
    throw new LimitError(line, `expected SCOPE ${kind === "climiter" ? "N" : "RATE"} (${what})`);
  }
  checkScope(line, f[0], isAddress);
  const pattern = kind === "climiter" ? /^\+?\d+$/ : /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  const limit = Number(f[1]);
  if (!pattern.test(f[1]) || !(limit > 0) || !Number.isFinite(limit)) {
    throw new LimitError(
      line,
      `${JSON.stringify(f[1])} is not ${
        kind === "climiter" ? "a whole number" : "a number"
      } of ${what} above 0 (gost skips such a line, which leaves the scope unlimited)`,
    );
  }
  return { scope: f[0], limit };
}

/**
 * The lines of a limits file: `#` starts a comment, blank lines are skipped. Returns each line
 * with its 1-based number.
 */
export function fileLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const t = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (t) out.push({ line: i + 1, text: t });
  });
  return out;
}
