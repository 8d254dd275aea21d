/**
 * The URL grammar of gost's `-L` and `-F` flags:
 * `[scheme]://[user[:pass]@]host[:port][/target1,target2,…][?key=value&…]`.
 *
 * This is deliberately not `new URL()`: gost's hosts may be port ranges (`:8000-8003`) or
 * comma lists (`h1:1080,h2:1080`), which WHATWG URL parsing rejects or rewrites. The parser
 * splits the string the way gost does (the authority ends at the first `/` or `?`, the
 * userinfo ends at the last `@` in it) and reports every malformed part by name.
 * @module
 */

/** The user part of a URL, percent-decoded. `password` is undefined when there was no `:`. */
export interface UserInfo {
  username: string;
  password?: string;
}

/** A command-line URL split into its parts. */
export interface GostURL {
  /** The argument as given (for messages). */
  raw: string;
  /** Lower-cased scheme, `auto` when the argument had none. */
  scheme: string;
  user?: UserInfo;
  /** The host part as written: `:8080`, `host:1080`, `:8000-8003`, `h1:1,h2:2`, `[::1]:80`. */
  host: string;
  /** The path as written (still percent-escaped), e.g. `/192.168.1.1:80,:81`; "" when absent. */
  path: string;
  /** Query parameters, percent-decoded, in the order given (repeated keys kept). */
  query: [string, string][];
}

/** A malformed `-L`/`-F` argument; the message names the argument (password hidden) and the bad part. */
export class URLError extends Error {
  constructor(readonly arg: string, why: string) {
    super(`invalid URL ${JSON.stringify(redactPassword(arg))}: ${why}`);
    this.name = "URLError";
  }
}

/** Replaces the password of `user:pass@` in a command-line URL with `***`, for messages. */
export function redactPassword(arg: string): string {
  const start = arg.indexOf("://");
  const from = start < 0 ? 0 : start + 3;
  let end = arg.slice(from).search(/[/?#]/);
  end = end < 0 ? arg.length : end + from;
  const at = arg.lastIndexOf("@", end - 1);
  if (at < from) return arg;
  const colon = arg.indexOf(":", from);
  if (colon < 0 || colon > at) return arg;
  return `${arg.slice(0, colon + 1)}***${arg.slice(at)}`;
}

const HINT = ` (write a literal "%" as %25)`;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** Percent-decodes `s`; throws a plain Error naming the bad escape. */
function unescape(s: string, plusIsSpace: boolean): string {
  if (plusIsSpace) s = s.replaceAll("+", " ");
  if (!s.includes("%")) return s;
  const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(s);
  if (bad) throw new Error(`bad %-escape "%${bad[1]}"`);
  try {
    return decodeURIComponent(s);
  } catch {
    // Escapes that are valid hex but not UTF-8 (e.g. %ff): keep the bytes as Latin-1 chars.
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
}

/**
 * Parses one `-L`/`-F` argument. A missing scheme or a leading `:` means `auto://`, as in gost.
 * @example parseGostURL("relay+tls://u:p@:8443?nodelay=true")
 */
export function parseGostURL(arg: string): GostURL {
  let s = arg.trim();
  if (s === "") throw new URLError(arg, 'empty argument (expected e.g. "http://:8080")');
  if (s[0] === ":" || !s.includes("://")) s = "auto://" + s;

  const schemeEnd = s.indexOf("://");
  const scheme = s.slice(0, schemeEnd);
  if (!SCHEME.test(scheme)) {
    throw new URLError(
      arg,
      `bad scheme ${JSON.stringify(scheme)} (expected letters, digits, "+", "-" or ".", like "relay+tls")`,
    );
  }
  const rest = s.slice(schemeEnd + 3);
  if (rest.includes("#")) {
    throw new URLError(arg, `unexpected "#" (write it as %23 inside a password or value)`);
  }

  let authEnd = rest.search(/[/?]/);
  if (authEnd < 0) authEnd = rest.length;
  const authority = rest.slice(0, authEnd);
  const tail = rest.slice(authEnd);

  let user: UserInfo | undefined;
  let host = authority;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const info = authority.slice(0, at);
    host = authority.slice(at + 1);
    const colon = info.indexOf(":");
    const rawName = colon < 0 ? info : info.slice(0, colon);
    let username: string;
    try {
      username = unescape(rawName, false);
    } catch (err) {
      throw new URLError(arg, `${(err as Error).message} in the user name${HINT}`);
    }
    user = { username };
    if (colon >= 0) {
      try {
        user.password = unescape(info.slice(colon + 1), false);
      } catch (err) {
        throw new URLError(arg, `${(err as Error).message} in the password${HINT}`);
      }
    }
  }
  if (/\s/.test(host)) throw new URLError(arg, `white space in the address ${JSON.stringify(host)}`);

  const q = tail.indexOf("?");
  const path = q < 0 ? tail : tail.slice(0, q);
  try {
    unescape(path, false);
  } catch (err) {
    throw new URLError(arg, `${(err as Error).message} in the path ${JSON.stringify(path)}${HINT}`);
  }
  const query: [string, string][] = [];
  if (q >= 0) {
    for (const pair of tail.slice(q + 1).split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
      let key: string, value: string;
      try {
        key = unescape(rawKey, true);
        value = unescape(rawValue, true);
      } catch (err) {
        throw new URLError(
          arg,
          `${(err as Error).message} in the query parameter ${JSON.stringify(rawKey)}${HINT}`,
        );
      }
      if (key === "") throw new URLError(arg, `query parameter without a name: ${JSON.stringify(pair)}`);
      query.push([key, value]);
    }
  }
  return { raw: arg, scheme: scheme.toLowerCase(), user, host, path, query };
}
