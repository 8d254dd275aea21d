/**
 * SSH key material from files: private keys (with passphrase), `authorized_keys` lists, and
 * the checks a server runs on what a client offers.
 * @module
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { readConfigFile } from "../../core/files.ts";
import { type ParsedKey, parseKey } from "./ssh2.ts";

/**
 * Reads and parses a private key file; errors name the file and the cause, and `where` the
 * option in the config.
 */
export function loadPrivateKey(
  path: string,
  passphrase?: string,
  where = "",
): { key: ParsedKey; pem: string } {
  const text = readConfigFile(path, where, "private key");
  try {
    const key = parseKey(text, passphrase || undefined);
    if (!key.isPrivateKey()) throw new Error("not a private key");
    return { key, pem: text };
  } catch (err) {
    const msg = (err as Error).message;
    const hint = /passphrase|decrypt|encrypted/i.test(msg) ? " (wrong or missing passphrase?)" : "";
    throw new Error(`cannot parse private key ${path}: ${msg}${hint}`);
  }
}

/**
 * Parses `authorized_keys` text: one public key per line; blank lines and `#` comments are
 * skipped, as are leading OpenSSH options (`no-pty ssh-ed25519 AAAA…`). A line that does not
 * parse is reported with its number.
 */
export function parseAuthorizedKeys(text: string, source = "authorized_keys"): ParsedKey[] {
  const keys: ParsedKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const at = line.search(/(^|\s)(ssh-|ecdsa-|sk-)/);
    const keyText = at < 0 ? line : line.slice(at).trim();
    try {
      keys.push(parseKey(keyText));
    } catch (err) {
      throw new Error(`${source}:${i + 1}: not a public key: ${(err as Error).message}`);
    }
  });
  return keys;
}

/** Reads an `authorized_keys` file; `where` is the option in the config. */
export function loadAuthorizedKeys(path: string, where = ""): ParsedKey[] {
  return parseAuthorizedKeys(readConfigFile(path, where, "authorized keys"), path);
}

/** Compares secrets in time independent of where they differ. */
export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === "string" ? Buffer.from(a) : Buffer.from(a);
  const y = typeof b === "string" ? Buffer.from(b) : Buffer.from(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** The public key a client offered in `publickey` auth, as ssh2 reports it. */
export interface OfferedKey {
  algo: string;
  data: Uint8Array;
}

/** The authorized key matching an offered one (by its public blob), if any. */
export function findAuthorizedKey(keys: ParsedKey[], offered: OfferedKey): ParsedKey | undefined {
  return keys.find((k) => safeEqual(k.getPublicSSH(), offered.data));
}
