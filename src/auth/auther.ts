/**
 * Authers: named sets of users (gost's `authers:`), from inline `auths` and a `file` of
 * `user password` lines re-read every `reload` period. A handler with authers admits a client
 * whose credentials any of them accepts. As in gost, a user listed without a password accepts
 * any password, and an auther with no users accepts nobody.
 * @module
 */
import { type Auther, sameBytes } from "../core/auth.ts";
import type { Line } from "../core/list_source.ts";

const encoder = new TextEncoder();
/** Compared against when the user is unknown, so that an unknown user costs as much as a known one. */
const DUMMY = encoder.encode("gost-deno: no such user, this password never matches");

/** One `authers:` entry. */
export class StoreAuther implements Auther {
  #users = new Map<string, Uint8Array | null>();

  constructor(readonly name: string, users: ReadonlyMap<string, string>) {
    this.replace(users);
  }

  /** Number of users. */
  get size(): number {
    return this.#users.size;
  }

  /** Replaces the users (a reloaded file); new handshakes see the new set. */
  replace(users: ReadonlyMap<string, string>): void {
    const next = new Map<string, Uint8Array | null>();
    for (const [u, p] of users) next.set(u, p === "" ? null : encoder.encode(p));
    this.#users = next;
  }

  check(username: string, password: string): boolean {
    const want = this.#users.get(username);
    const given = encoder.encode(password);
    if (want === undefined) {
      sameBytes(given, DUMMY);
      return false;
    }
    return want === null || sameBytes(given, want);
  }
}

/** Several authers at one place: the first that accepts the credentials admits the client. */
export class AutherGroup implements Auther {
  constructor(readonly members: readonly Auther[]) {}

  check(username: string, password: string): boolean {
    for (const a of this.members) if (a.check(username, password)) return true;
    return false;
  }
}

/**
 * Parses an auth file as gost does: one `user password` per line (tabs count as spaces; the
 * password is the rest of the line, trimmed, and may hold spaces or `#`), a line starting with `#`
 * is a comment, blank lines are skipped, a line with a user only gives that user no password.
 */
export function parseAuthLines(lines: Line[]): Map<string, string> {
  const users = new Map<string, string>();
  for (const l of lines) {
    const text = l.text.replaceAll("\t", " ").trim();
    if (text === "" || text.startsWith("#")) continue;
    const sp = text.indexOf(" ");
    if (sp < 0) users.set(text, "");
    else users.set(text.slice(0, sp), text.slice(sp + 1).trim());
  }
  return users;
}
