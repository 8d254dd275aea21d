/**
 * SSH's AEAD ciphers (`aes128-gcm@openssh.com`, `aes256-gcm@openssh.com`,
 * `chacha20-poly1305@openssh.com`) through OpenSSL's libcrypto, in the shape of the classes
 * of ssh2's optional native addon (`sshcrypto.node`: `AESGCMCipher`, `ChaChaPolyDecipher`, …),
 * so ssh2 encrypts and decrypts each packet in place with one call.
 *
 * Why: under Deno ssh2 has no addon and falls back to `node:crypto` — a new cipher object per
 * packet (three for chacha20-poly1305) and Poly1305 in WebAssembly. Profiled on the rtcp-via-sshd
 * bench row that was ~25% of each process's CPU (wasm Poly1305 12–15%, cipher objects ~6%,
 * their Buffers and garbage ~15%), and each packet went to the socket as three writes.
 *
 * One cipher context per algorithm per thread serves every connection: each packet sets key
 * and nonce again (cheap next to the packet itself), so no native object outlives a connection
 * and nothing needs freeing. Every call is synchronous.
 * @module
 */
import { openLibrary } from "../../core/ffi.ts";
import {
  EVP_CIPHER_SYMBOLS,
  EVP_CTRL_AEAD_GET_TAG as CTRL_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG as CTRL_SET_TAG,
  LIBCRYPTO_PATHS as LIBRARIES,
} from "../../core/libcrypto.ts";

const SYMBOLS = {
  ...EVP_CIPHER_SYMBOLS,
  EVP_CIPHER_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer", optional: true },
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_chacha20: { parameters: [], result: "pointer" },
  // Poly1305 as a MAC: OpenSSL 3 only (1.1 keeps AES-GCM here and chacha20 on ssh2's own path).
  EVP_MAC_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer", optional: true },
  EVP_MAC_CTX_new: { parameters: ["pointer"], result: "pointer", optional: true },
  EVP_MAC_init: { parameters: ["pointer", "buffer", "usize", "pointer"], result: "i32", optional: true },
  EVP_MAC_update: { parameters: ["pointer", "buffer", "usize"], result: "i32", optional: true },
  EVP_MAC_final: { parameters: ["pointer", "buffer", "buffer", "usize"], result: "i32", optional: true },
} as const;

const TAG = 16;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

interface Native {
  s: Lib;
  path: string;
  /** One context per cipher, initialised once with it: a packet then sets only key and nonce. */
  gcm128: Deno.PointerObject;
  gcm256: Deno.PointerObject;
  chacha?: Deno.PointerObject;
  mac?: Deno.PointerObject;
}

let native: Native | null | undefined;
/** Output lengths OpenSSL writes and we never need (int, and size_t for the MAC). */
const outLen = new Uint8Array(8);
const ZEROS64 = new Uint8Array(64);

/** A cipher fetched once: passing the legacy `EVP_aes_128_gcm()` makes OpenSSL 3 look it up on every init. */
function cipherOf(s: Lib, name: string, legacy: () => Deno.PointerValue): Deno.PointerValue {
  return s.EVP_CIPHER_fetch?.(null, cstr(name), null) ?? legacy();
}

function cstr(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}

function contextFor(s: Lib, cipher: Deno.PointerValue): Deno.PointerObject {
  const ctx = cipher && s.EVP_CIPHER_CTX_new();
  if (!ctx || s.EVP_CipherInit_ex(ctx, cipher, null, null, null, 1) !== 1) {
    throw new Error("libcrypto: cannot set up a cipher context");
  }
  return ctx;
}

function load(): Native | null {
  const opened = openLibrary(LIBRARIES, SYMBOLS);
  if (!opened) return null;
  const s = opened.lib.symbols;
  try {
    const n: Native = {
      s,
      path: opened.path,
      gcm128: contextFor(s, cipherOf(s, "AES-128-GCM", s.EVP_aes_128_gcm)),
      gcm256: contextFor(s, cipherOf(s, "AES-256-GCM", s.EVP_aes_256_gcm)),
    };
    const mac = s.EVP_MAC_fetch?.(null, cstr("POLY1305"), null);
    const macCtx = mac && s.EVP_MAC_CTX_new?.(mac);
    if (macCtx) {
      n.chacha = contextFor(s, cipherOf(s, "ChaCha20", s.EVP_chacha20));
      n.mac = macCtx;
    }
    return n;
  } catch {
    opened.lib.close();
    return null;
  }
}

/** libcrypto's ciphers, loaded on first use; null where the process may not load it. */
export function nativeSsh(): Native | null {
  if (native === undefined) native = load();
  return native;
}

function fail(what: string): never {
  throw new Error(`libcrypto: ${what} failed`);
}

function check(r: number, what: string): void {
  if (r !== 1) fail(what);
}

/** Sets key and nonce on a context that already holds its cipher. */
function init(n: Native, ctx: Deno.PointerObject, key: Uint8Array, iv: Uint8Array, enc: 0 | 1): void {
  check(
    n.s.EVP_CipherInit_ex(
      ctx,
      null,
      null,
      key as Uint8Array<ArrayBuffer>,
      iv as Uint8Array<ArrayBuffer>,
      enc,
    ),
    "cipher init",
  );
}

function update(n: Native, ctx: Deno.PointerObject, out: Uint8Array | null, data: Uint8Array): void {
  check(
    n.s.EVP_CipherUpdate(
      ctx,
      out as Uint8Array<ArrayBuffer>,
      outLen,
      data as Uint8Array<ArrayBuffer>,
      data.length,
    ),
    "cipher update",
  );
}

/** Adds one to the 64-bit invocation counter of an SSH AES-GCM nonce (bytes 4–11, RFC 5647). */
function ivIncrement(iv: Uint8Array): void {
  for (let i = 11; i >= 4; i--) {
    iv[i] = (iv[i] + 1) & 0xff;
    if (iv[i] !== 0) return;
  }
}

function gcmContext(n: Native, name: string): Deno.PointerObject {
  if (name === "aes-128-gcm") return n.gcm128;
  if (name === "aes-256-gcm") return n.gcm256;
  throw new Error(`Invalid AES GCM cipher name: ${name}`);
}

/** ssh2's addon `AESGCMCipher`: seals `<length> <padded payload> <tag room>` in place. */
export class AESGCMCipher {
  readonly #n: Native;
  readonly #ctx: Deno.PointerObject;
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;
  constructor(name: string, key: Uint8Array, iv: Uint8Array) {
    this.#n = nativeSsh()!;
    this.#ctx = gcmContext(this.#n, name);
    this.#key = key.slice();
    this.#iv = iv.slice();
  }
  encrypt(packet: Uint8Array): void {
    const n = this.#n, ctx = this.#ctx, end = packet.length - TAG;
    init(n, ctx, this.#key, this.#iv, 1);
    update(n, ctx, null, packet.subarray(0, 4)); // the length is AAD, sent in the clear
    const body = packet.subarray(4, end);
    update(n, ctx, body, body);
    const tag = packet.subarray(end) as Uint8Array<ArrayBuffer>;
    check(n.s.EVP_CipherFinal_ex(ctx, tag, outLen), "seal");
    check(n.s.EVP_CIPHER_CTX_ctrl(ctx, CTRL_GET_TAG, TAG, tag), "seal");
    ivIncrement(this.#iv);
  }
  free(): void {}
}

/** ssh2's addon `AESGCMDecipher`: opens `<padded payload>` in place, checking `tag`. */
export class AESGCMDecipher {
  readonly #n: Native;
  readonly #ctx: Deno.PointerObject;
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;
  readonly #len = new Uint8Array(4);
  constructor(name: string, key: Uint8Array, iv: Uint8Array) {
    this.#n = nativeSsh()!;
    this.#ctx = gcmContext(this.#n, name);
    this.#key = key.slice();
    this.#iv = iv.slice();
  }
  decrypt(packet: Uint8Array, len: number, tag: Uint8Array): void {
    const n = this.#n, ctx = this.#ctx, l = this.#len;
    l[0] = len >>> 24, l[1] = len >>> 16, l[2] = len >>> 8, l[3] = len;
    init(n, ctx, this.#key, this.#iv, 0);
    update(n, ctx, null, l);
    const body = packet.subarray(0, len);
    update(n, ctx, body, body);
    check(n.s.EVP_CIPHER_CTX_ctrl(ctx, CTRL_SET_TAG, TAG, tag as Uint8Array<ArrayBuffer>), "set tag");
    if (n.s.EVP_CipherFinal_ex(ctx, outLen, outLen) !== 1) throw new Error("Invalid MAC");
    ivIncrement(this.#iv);
  }
  free(): void {}
}

/**
 * The ChaCha20 nonce of OpenSSH's construction (PROTOCOL.chacha20poly1305): a 64-bit block
 * counter (zero) then the 64-bit sequence number, big-endian — OpenSSL's 16-byte IV layout.
 */
function seqNonce(nonce: Uint8Array, seqno: number): Uint8Array {
  nonce[12] = seqno >>> 24, nonce[13] = seqno >>> 16, nonce[14] = seqno >>> 8, nonce[15] = seqno;
  return nonce;
}

/** Poly1305 of `parts` under the one-time key `key` into `out`. */
function poly1305(n: Native, key: Uint8Array, out: Uint8Array, ...parts: Uint8Array[]): void {
  const s = n.s, mac = n.mac!;
  check(s.EVP_MAC_init!(mac, key as Uint8Array<ArrayBuffer>, 32n, null), "poly1305 init");
  for (const p of parts) {
    check(s.EVP_MAC_update!(mac, p as Uint8Array<ArrayBuffer>, BigInt(p.length)), "poly1305");
  }
  check(s.EVP_MAC_final!(mac, out as Uint8Array<ArrayBuffer>, outLen, 16n), "poly1305 final");
}

/** What both chacha20-poly1305 directions keep: the two keys and scratch bytes. */
class ChaChaKeys {
  protected readonly n: Native;
  protected readonly ctx: Deno.PointerObject;
  /** K_2 (payload, first 32 bytes) and K_1 (length, last 32), as OpenSSH splits the 64. */
  protected readonly main: Uint8Array;
  protected readonly lenKey: Uint8Array;
  protected readonly nonce = new Uint8Array(16);
  /** Block 0 of the payload key stream: its first 32 bytes are the Poly1305 key. */
  protected readonly block0 = new Uint8Array(64);
  constructor(keys: Uint8Array) {
    if (keys.length !== 64) throw new Error("Invalid keys length");
    this.n = nativeSsh()!;
    this.ctx = this.n.chacha!;
    this.main = keys.slice(0, 32);
    this.lenKey = keys.slice(32, 64);
  }
  /** Starts the payload key stream for `seqno` and derives the Poly1305 key (block 0). */
  protected startPayload(seqno: number): Uint8Array {
    init(this.n, this.ctx, this.main, seqNonce(this.nonce, seqno), 1);
    update(this.n, this.ctx, this.block0, ZEROS64);
    return this.block0.subarray(0, 32);
  }
  free(): void {}
}

/** ssh2's addon `ChaChaPolyCipher`: seals `<length> <padded payload> <mac room>` in place. */
export class ChaChaPolyCipher extends ChaChaKeys {
  encrypt(packet: Uint8Array, seqno: number): void {
    const n = this.n, ctx = this.ctx, end = packet.length - TAG;
    init(n, ctx, this.lenKey, seqNonce(this.nonce, seqno), 1);
    const len = packet.subarray(0, 4);
    update(n, ctx, len, len);
    const polyKey = this.startPayload(seqno);
    // The key stream goes on at block 1, where the payload starts.
    const body = packet.subarray(4, end);
    update(n, ctx, body, body);
    poly1305(n, polyKey, packet.subarray(end), packet.subarray(0, end));
  }
}

/** ssh2's addon `ChaChaPolyDecipher`: the length first, then the packet in place after its MAC. */
export class ChaChaPolyDecipher extends ChaChaKeys {
  readonly #encLen = new Uint8Array(4);
  readonly #len = new Uint8Array(4);
  readonly #mac = new Uint8Array(TAG);

  decryptLen(lenBytes: Uint8Array, seqno: number): number {
    this.#encLen.set(lenBytes.subarray(0, 4));
    init(this.n, this.ctx, this.lenKey, seqNonce(this.nonce, seqno), 0);
    update(this.n, this.ctx, this.#len, this.#encLen);
    const l = this.#len;
    return ((l[0] << 24) | (l[1] << 16) | (l[2] << 8) | l[3]) >>> 0;
  }

  decrypt(packet: Uint8Array, mac: Uint8Array, seqno: number): void {
    const polyKey = this.startPayload(seqno);
    poly1305(this.n, polyKey, this.#mac, this.#encLen, packet);
    let diff = 0;
    for (let i = 0; i < TAG; i++) diff |= this.#mac[i] ^ mac[i];
    if (diff !== 0) throw new Error("Invalid MAC");
    update(this.n, this.ctx, packet, packet);
  }
}

/**
 * The addon's classes for ssh2 to use, or null where libcrypto cannot be loaded. Without
 * Poly1305 (OpenSSL 1.1) only the AES-GCM classes are given; ssh2 keeps its own code for
 * the rest, as it does for the AES-CTR + HMAC ciphers.
 */
export function sshCryptoBinding(): Record<string, unknown> | null {
  const n = nativeSsh();
  if (!n) return null;
  const b: Record<string, unknown> = { AESGCMCipher, AESGCMDecipher };
  if (n.chacha) Object.assign(b, { ChaChaPolyCipher, ChaChaPolyDecipher });
  return b;
}
