/**
 * The query keys of a `-L`/`-F` URL that gost's command line reads itself, as gost reads them:
 * selector keys, auth (`user:pass@`, SIP002, `?auth=`) and TLS files.
 * @module
 */
import type { AuthConfig, SelectorConfig, TLSConfig } from "../config/types.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { type GostURL, URLError } from "./url.ts";

/**
 * Query parameters as gost holds them: the first value of each key, lookups case-insensitive
 * (gost's metadata), deletions by exact key (gost deletes from the raw map).
 *
 * Not `defineOptions`: these keys are consumed (deleted) as gost's URL grammar moves them into
 * the config, with gost's "" → 0 defaults; the options left are parsed by their components.
 */
export class Params {
  readonly map = new Map<string, unknown>();
  constructor(pairs: [string, unknown][] = []) {
    for (const [k, v] of pairs) if (!this.map.has(k)) this.map.set(k, v);
  }
  #find(names: string[]): unknown {
    for (const name of names) {
      const lower = name.toLowerCase();
      for (const [k, v] of this.map) if (k.toLowerCase() === lower) return v;
    }
    return undefined;
  }
  string(...names: string[]): string {
    const v = this.#find(names);
    return v === undefined || v === null ? "" : String(v);
  }
  delete(...keys: string[]): void {
    for (const k of keys) this.map.delete(k);
  }
  set(k: string, v: unknown): void {
    this.map.set(k, v);
  }
}

/** Throws the {@link URLError} of `url` for `why`. */
export function fail(url: GostURL, why: string): never {
  throw new URLError(url.raw, why);
}

/** gost's GetInt for a URL value: "" → 0; anything else must be an integer. */
export function intParam(url: GostURL, p: Params, ...names: string[]): number {
  const s = p.string(...names).trim();
  if (s === "") return 0;
  if (!/^-?\d+$/.test(s)) fail(url, `${names[0]}=${s}: expected an integer`);
  return Number(s);
}

/** gost's GetDuration for a URL value: "" → 0; anything else must be a duration. */
function durationParam(url: GostURL, p: Params, ...names: string[]): number {
  const s = p.string(...names).trim();
  if (s === "") return 0;
  const ms = parseDuration(s);
  if (ms === null) fail(url, `${names[0]}=${s}: expected a duration like "30s" or "1m"`);
  return ms;
}

/** gost's parseSelector: emitted only when a selector key is given; then fills the defaults. */
export function takeSelector(url: GostURL, p: Params): SelectorConfig | undefined {
  const strategy = p.string("strategy");
  const maxFails = intParam(url, p, "maxFails", "max_fails");
  const failTimeout = durationParam(url, p, "failTimeout", "fail_timeout");
  if (strategy === "" && maxFails <= 0 && failTimeout <= 0) return undefined;
  p.delete("strategy", "maxFails", "max_fails", "failTimeout", "fail_timeout");
  return {
    strategy: strategy || "round",
    maxFails: maxFails > 0 ? maxFails : 1,
    failTimeout: formatDuration(failTimeout > 0 ? failTimeout : 30_000),
  };
}

function decodeBase64(s: string): string | null {
  let b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  if (/[^A-Za-z0-9+/=]/.test(b64)) return null;
  b64 = b64.replace(/=+$/, "");
  if (b64.length % 4 === 1) return null;
  try {
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

function makeAuth(username: string, password: string | undefined): AuthConfig {
  return password ? { username, password } : { username };
}

/** Auth from `user:pass@`, SIP002 `base64(method:password)@` for ss*, or `?auth=base64(user:pass)`. */
export function takeAuth(url: GostURL, p: Params): AuthConfig | undefined {
  let auth: AuthConfig | undefined;
  if (url.user) {
    if (url.scheme.startsWith("ss") && url.user.password === undefined && url.user.username !== "") {
      const decoded = decodeBase64(url.user.username);
      const i = decoded?.indexOf(":") ?? -1;
      if (decoded && i >= 0) auth = makeAuth(decoded.slice(0, i), decoded.slice(i + 1));
    }
    auth ??= makeAuth(url.user.username, url.user.password);
  }
  const sa = p.string("auth");
  if (sa !== "" && !auth) {
    const decoded = decodeBase64(sa);
    if (decoded === null) fail(url, `auth=${sa}: expected base64 of "user:password"`);
    const i = decoded.indexOf(":");
    auth = i < 0 ? { username: decoded } : makeAuth(decoded.slice(0, i), decoded.slice(i + 1));
  }
  p.delete("auth");
  return auth;
}

const TLS_FILE_KEYS = [
  "tls.certFile",
  "certFile",
  "cert",
  "tls.keyFile",
  "keyFile",
  "key",
  "tls.caFile",
  "caFile",
  "ca",
];

/** `?cert=`, `?key=`, `?ca=` (and their `tls.` spellings): the TLS files, taken out of `p`. */
export function takeTLSFiles(p: Params): TLSConfig {
  const tls: TLSConfig = {};
  const cert = p.string("tls.certFile", "certFile", "cert");
  const key = p.string("tls.keyFile", "keyFile", "key");
  const ca = p.string("tls.caFile", "caFile", "ca");
  if (cert) tls.certFile = cert;
  if (key) tls.keyFile = key;
  if (ca) tls.caFile = ca;
  p.delete(...TLS_FILE_KEYS);
  return tls;
}
