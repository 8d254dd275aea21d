/**
 * Go-style durations: "300ms", "1.5s", "1h2m3s"; a bare number means seconds (as gost reads it).
 * @module
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a duration into milliseconds, or returns null when it is malformed. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v * 1000 : null;
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (s === "") return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

/** Formats milliseconds the way Go prints a duration ("30s", "1m30s", "1h0m0s", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const total = ms / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total - h * 3600) / 60);
  const s = Number((total - h * 3600 - m * 60).toFixed(3));
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** `v / 10^digits` with the fraction's trailing zeros dropped, as Go's Duration.String writes it. */
function fraction(v: number, digits: number): string {
  const p = 10 ** digits;
  const f = String(v % p).padStart(digits, "0").replace(/0+$/, "");
  return f ? `${Math.floor(v / p)}.${f}` : `${Math.floor(v / p)}`;
}

/** Go's time.Duration.String for integer nanoseconds: "850ns", "5.567ms", "1.5s", "1m2.000001s". */
export function formatNanos(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${fraction(ns, 3)}µs`;
  if (ns < 1e9) return `${fraction(ns, 6)}ms`;
  const secs = Math.floor(ns / 1e9);
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = `${fraction(ns - (h * 3600 + m * 60) * 1e9, 9)}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
}
