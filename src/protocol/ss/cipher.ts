/**
 * Shadowsocks methods, keys and the AEAD primitive they run on.
 *
 * AEAD (2017) methods derive the master key from a password with OpenSSL's
 * `EVP_BytesToKey` (MD5) and a per-session subkey with HKDF-SHA1 ("ss-subkey"); the 2022
 * methods take a base64 key and derive subkeys with BLAKE3's derive-key mode.
 *
 * Speed: ChaCha20-Poly1305 runs on `node:crypto` (synchronous, ~600 MiB/s here). AES-GCM runs
 * on `node:crypto` for small messages (length chunks, short payloads: no thread hop) and on
 * Web Crypto for large ones, where several chunks in flight at once use a second core; its
 * key is imported only when the first large message comes. Where the process may load
 * OpenSSL's libcrypto (`--allow-ffi`), every message goes there instead (see openssl.ts).
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from "node:crypto";
import { blake3 } from "@noble/hashes/blake3.js";
import { NativeAead, type NativeAlg } from "./openssl.ts";

/** What a method is built from. */
export interface MethodInfo {
  name: string;
  /** Key (and subkey) length in bytes. */
  keySize: number;
  /** Salt length in bytes (equal to the key length for every supported method). */
  saltSize: number;
  /** The AEAD construction. */
  aead: "aes-gcm" | "chacha20-poly1305";
  /** "aead" = SIP004 (2017) with password keys; "2022" = SIP022 with base64 keys. */
  edition: "aead" | "2022";
}

const METHODS: Record<string, MethodInfo> = {
  "aes-128-gcm": { name: "aes-128-gcm", keySize: 16, saltSize: 16, aead: "aes-gcm", edition: "aead" },
  "aes-256-gcm": { name: "aes-256-gcm", keySize: 32, saltSize: 32, aead: "aes-gcm", edition: "aead" },
  "chacha20-ietf-poly1305": {
    name: "chacha20-ietf-poly1305",
    keySize: 32,
    saltSize: 32,
    aead: "chacha20-poly1305",
    edition: "aead",
  },
  "2022-blake3-aes-128-gcm": {
    name: "2022-blake3-aes-128-gcm",
    keySize: 16,
    saltSize: 16,
    aead: "aes-gcm",
    edition: "2022",
  },
  "2022-blake3-aes-256-gcm": {
    name: "2022-blake3-aes-256-gcm",
    keySize: 32,
    saltSize: 32,
    aead: "aes-gcm",
    edition: "2022",
  },
};

/** Aliases other implementations accept for the same methods. */
const ALIASES: Record<string, string> = {
  "chacha20-poly1305": "chacha20-ietf-poly1305",
  "aead_aes_128_gcm": "aes-128-gcm",
  "aead_aes_256_gcm": "aes-256-gcm",
  "aead_chacha20_poly1305": "chacha20-ietf-poly1305",
};

/** The names of the supported methods, for error messages. */
export const SUPPORTED_METHODS: readonly string[] = Object.keys(METHODS);

/** The method called `name` (case-insensitive), or undefined. */
export function lookupMethod(name: string): MethodInfo | undefined {
  const n = name.trim().toLowerCase();
  return METHODS[ALIASES[n] ?? n];
}

/** AEAD tag length for every supported method. */
export const TAG_SIZE = 16;
/** AEAD nonce length for every supported method. */
export const NONCE_SIZE = 12;

const encoder = new TextEncoder();

/** OpenSSL `EVP_BytesToKey` with MD5, one iteration, no salt: the AEAD master key. */
export function evpBytesToKey(password: string, keySize: number): Uint8Array {
  const pass = encoder.encode(password);
  const out = new Uint8Array(keySize);
  let prev = new Uint8Array(0);
  for (let off = 0; off < keySize;) {
    const h = createHash("md5");
    h.update(prev);
    h.update(pass);
    prev = new Uint8Array(h.digest());
    out.set(prev.subarray(0, Math.min(prev.length, keySize - off)), off);
    off += prev.length;
  }
  return out;
}

const SS_SUBKEY = Buffer.from("ss-subkey");
const SS2022_SUBKEY = encoder.encode("shadowsocks 2022 session subkey");

/**
 * The pre-shared keys as `node:crypto` key objects, made once per key: `hkdfSync` given raw
 * bytes and a string builds both again per call (~14 µs against ~4.5 µs, measured).
 */
const pskObjects = new WeakMap<Uint8Array, KeyObject>();

/** HKDF-SHA1(psk, salt, "ss-subkey"): the AEAD per-session key. */
export function aeadSubkey(psk: Uint8Array, salt: Uint8Array): Uint8Array {
  let key = pskObjects.get(psk);
  if (!key) pskObjects.set(psk, key = createSecretKey(psk));
  return new Uint8Array(hkdfSync("sha1", key, salt, SS_SUBKEY, psk.length));
}

/**
 * BLAKE3 in derive-key mode for the 2022 context, its context key already hashed, by output
 * length: each derivation clones one (hashing the context string again cost ~40% of it).
 */
const blake3Derivers = new Map<number, ReturnType<typeof blake3.create>>();

/** BLAKE3 derive_key("shadowsocks 2022 session subkey", psk ‖ salt): the 2022 session key. */
export function blake3Subkey(psk: Uint8Array, salt: Uint8Array): Uint8Array {
  let deriver = blake3Derivers.get(psk.length);
  if (!deriver) {
    blake3Derivers.set(psk.length, deriver = blake3.create({ context: SS2022_SUBKEY, dkLen: psk.length }));
  }
  return deriver.clone().update(psk).update(salt).digest();
}

/** Per-session subkey for `method`. */
export function sessionSubkey(method: MethodInfo, psk: Uint8Array, salt: Uint8Array): Uint8Array {
  return method.edition === "2022" ? blake3Subkey(psk, salt) : aeadSubkey(psk, salt);
}

/**
 * The pre-shared key for `method`: EVP_BytesToKey of the password for AEAD methods; for 2022
 * methods the password is the base64 key itself and must decode to exactly the key size.
 * Throws an Error whose message says what was wrong.
 */
export function methodKey(method: MethodInfo, password: string): Uint8Array {
  if (method.edition === "aead") return evpBytesToKey(password, method.keySize);
  let key: Uint8Array;
  try {
    key = Uint8Array.from(atob(password.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new Error(
      `${method.name} needs a base64 key of ${method.keySize} bytes (openssl rand -base64 ${method.keySize})`,
    );
  }
  if (key.length !== method.keySize) {
    throw new Error(
      `${method.name} needs a base64 key of ${method.keySize} bytes, got ${key.length} (openssl rand -base64 ${method.keySize})`,
    );
  }
  return key;
}

/** Increments a little-endian nonce counter in place. */
export function incrementNonce(nonce: Uint8Array): void {
  for (let i = 0; i < nonce.length; i++) {
    nonce[i] = (nonce[i] + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}

/** Payloads at least this long are sealed/opened on Web Crypto (AES-GCM only). */
const ASYNC_MIN = 2048;

/**
 * One AEAD key. `sealInto`/`openSync` are synchronous (`node:crypto`); `seal`/`open` hand
 * large AES-GCM messages to Web Crypto and then return a promise. Web Crypto copies nonce and
 * message when called, so callers may change both once `seal`/`open` returns — except for the
 * first large message, which waits for the key import: that one path copies them itself.
 *
 * The Web Crypto key is imported on the first large message, not up front: `importKey`
 * costs about as much as all the rest of a connection's crypto, and most connections of a
 * proxy (requests, handshakes) never send a 2 KiB message in one direction.
 */
export class Aead {
  readonly #nodeAlg: string;
  readonly #key: Uint8Array;
  readonly #aes: boolean;
  /** libcrypto, where the process may load it: then every call below goes there. */
  readonly #native: NativeAead | null;
  #web?: CryptoKey;
  #webImport?: Promise<CryptoKey>;

  private constructor(nodeAlg: string, key: Uint8Array) {
    this.#nodeAlg = nodeAlg;
    this.#key = key;
    this.#aes = nodeAlg !== "chacha20-poly1305";
    this.#native = NativeAead.create(nodeAlg as NativeAlg, key);
  }

  /** True when this key runs on OpenSSL's libcrypto rather than Deno's crypto. */
  get native(): boolean {
    return this.#native !== null;
  }

  /** The AEAD for `alg` with `key`. */
  static create(alg: MethodInfo["aead"], key: Uint8Array): Aead {
    return new Aead(alg === "chacha20-poly1305" ? alg : `aes-${key.length * 8}-gcm`, key);
  }

  /** The AEAD for one datagram (no Web Crypto ever: datagrams are small). */
  static sync(alg: MethodInfo["aead"], key: Uint8Array): Aead {
    return Aead.create(alg, key);
  }

  /**
   * Seals `plain` into `out` at `off` (ciphertext then tag): `plain.length + 16` bytes. `plain` may
   * be those same bytes of `out` (sealed in place): it is read whole before `out` is written.
   */
  sealInto(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array, off: number): void {
    if (this.#native) return this.#native.seal(nonce, plain, out, off);
    const c = createCipheriv(this.#nodeAlg as "chacha20-poly1305", this.#key, nonce, {
      authTagLength: TAG_SIZE,
    });
    const body = c.update(plain);
    c.final();
    out.set(body, off);
    out.set(c.getAuthTag(), off + body.length);
  }

  /** Opens `sealed` (ciphertext then tag); null when it does not authenticate. */
  openSync(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    if (this.#native) return this.#native.open(nonce, sealed);
    if (sealed.length < TAG_SIZE) return null;
    const n = sealed.length - TAG_SIZE;
    try {
      const d = createDecipheriv(this.#nodeAlg as "chacha20-poly1305", this.#key, nonce, {
        authTagLength: TAG_SIZE,
      });
      d.setAuthTag(sealed.subarray(n));
      const plain = d.update(sealed.subarray(0, n));
      d.final();
      return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
    } catch {
      return null;
    }
  }

  /**
   * Opens `sealed` into `out` at `off` (`sealed.length - 16` bytes, which may be `sealed`'s own
   * first bytes); false when it does not authenticate. On libcrypto the plaintext is written
   * there directly, otherwise it is copied there.
   */
  openTo(nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, off: number): boolean {
    if (this.#native) return this.#native.openTo(nonce, sealed, out, off);
    const plain = this.openSync(nonce, sealed);
    if (plain) out.set(plain, off);
    return plain !== null;
  }

  /**
   * Seals `plain` into `out` at `off`, synchronously or (large AES-GCM payloads) later: the
   * returned promise, if any, resolves once `out` holds the bytes.
   */
  seal(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array, off: number): Promise<void> | undefined {
    if (!this.#aes || this.#native || plain.length < ASYNC_MIN) {
      this.sealInto(nonce, plain, out, off);
      return undefined;
    }
    return this.#webCall("encrypt", nonce, plain).then((ct) => out.set(new Uint8Array(ct), off));
  }

  /** Opens `sealed`, synchronously or (large AES-GCM payloads) as a promise; null if forged. */
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null | Promise<Uint8Array | null> {
    if (!this.#aes || this.#native || sealed.length < ASYNC_MIN) return this.openSync(nonce, sealed);
    return this.#webCall("decrypt", nonce, sealed).then((p) => new Uint8Array(p), () => null);
  }

  #webCall(op: "encrypt" | "decrypt", nonce: Uint8Array, data: Uint8Array): Promise<ArrayBuffer> {
    const call = (key: CryptoKey, iv: Uint8Array, bytes: Uint8Array) =>
      crypto.subtle[op](
        { name: "AES-GCM", iv: iv as Uint8Array<ArrayBuffer> },
        key,
        bytes as Uint8Array<ArrayBuffer>,
      );
    if (this.#web) return call(this.#web, nonce, data);
    // The caller may reuse nonce and buffer as soon as we return: keep copies for later.
    const iv = nonce.slice(), bytes = data.slice();
    this.#webImport ??= crypto.subtle.importKey(
      "raw",
      this.#key as Uint8Array<ArrayBuffer>,
      "AES-GCM",
      false,
      [
        "encrypt",
        "decrypt",
      ],
    ).then((k) => this.#web = k);
    return this.#webImport.then((k) => call(k, iv, bytes));
  }
}
