/**
 * Username/password checks shared by every proxy handler (http, socks5, relay), and the
 * Basic credentials helpers the http handler and connector use.
 * @module
 */
const encoder = new TextEncoder();

/** An `auth` block of a service, listener, handler, connector or dialer (gost's `AuthConfig`). */
export interface AuthConfig {
  username?: string;
  password?: string;
}

/** Checks a client's user name and password (a service's `auth`, or its authers). */
export interface Auther {
  check(username: string, password: string): boolean;
}

/** Checks client credentials against a service's `auth`. */
export class Authenticator implements Auther {
  readonly #user: Uint8Array;
  readonly #pass: Uint8Array;
  constructor(readonly username: string, password: string) {
    this.#user = encoder.encode(username);
    this.#pass = encoder.encode(password);
  }

  /**
   * The authenticator for a service, or undefined when it needs no credentials (no auth
   * block, or one with an empty username and password).
   */
  static from(auth: AuthConfig | undefined): Authenticator | undefined {
    if (!auth || (!auth.username && !auth.password)) return undefined;
    return new Authenticator(auth.username ?? "", auth.password ?? "");
  }

  /** True when both match; compares in time independent of where they differ. */
  check(username: string, password: string): boolean {
    // Evaluate both so that a wrong username takes as long as a wrong password.
    const u = sameBytes(encoder.encode(username), this.#user);
    const p = sameBytes(encoder.encode(password), this.#pass);
    return u && p;
  }
}

/**
 * True when `a` equals `b`, in time that depends on the length of `b` only (not on where they
 * differ), so a client cannot find a password byte by byte.
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

/** `Basic base64(user:pass)` for Proxy-Authorization. */
export function basicCredentials(username: string, password: string): string {
  const bytes = encoder.encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Parses a `Basic …` header value into username and password; undefined when the scheme is
 * not Basic or the value is malformed.
 */
export function parseBasicCredentials(value: string): { username: string; password: string } | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return undefined;
  let text: string;
  try {
    const bin = atob(m[1]);
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const i = text.indexOf(":");
  if (i < 0) return undefined;
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}
