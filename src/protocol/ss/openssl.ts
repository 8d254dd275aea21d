/**
 * Shadowsocks' AEAD ciphers through OpenSSL's libcrypto, where the process may load it: gost is
 * granted FFI for libcrypto's usual paths only (`NATIVE_LIBRARIES` in core/ffi.ts).
 *
 * Why: Deno's own AES-GCM (Web Crypto and `node:crypto` alike) ran at 200–260 MiB/s per
 * 16 KiB chunk on our machines and `node:crypto` takes ~5 µs to set up each message, while
 * libcrypto sealed 16 KiB at ~3 GiB/s and a short message in under 1 µs (measured, AES-256-GCM).
 * Without the permission or the library nothing changes: {@link NativeAead.create} gives
 * null and the caller stays on Deno's crypto.
 *
 * One cipher context per method and thread serves every key, so no native object outlives a
 * connection. A context remembers whose key it holds: a message under that same key sets only
 * its nonce. Setting the cipher, or the key, each time cost several µs a message (the context
 * reset, OpenSSL 3's cipher fetch, the AES key schedule), ~4 of a connection's ~6 messages a
 * side; most messages now follow one under the same key (a sealer's length and payload chunks).
 * @module
 */
import { openLibrary } from "../../core/ffi.ts";
import {
  EVP_CIPHER_SYMBOLS,
  EVP_CTRL_AEAD_GET_TAG as CTRL_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG as CTRL_SET_TAG,
  LIBCRYPTO_PATHS as LIBRARIES,
} from "../../core/libcrypto.ts";
import { rootLogger } from "../../core/log.ts";

const SYMBOLS = {
  ...EVP_CIPHER_SYMBOLS,
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
} as const;

const TAG = 16;
const NONCE = 12;

/** The AEADs libcrypto provides here, by our name. */
export type NativeAlg = "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";

/** One method's cipher context, set up for its cipher once, and whose key it holds now. */
interface Slot {
  ctx: Deno.PointerObject;
  /** The key bytes the context holds (compared by identity: each {@link NativeAead} has its own). */
  key: Uint8Array | null;
}

interface Native {
  lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  slots: Partial<Record<NativeAlg, Slot>>;
}

let native: Native | null | undefined;
let enabled = true;
/** OpenSSL writes the output length here; we never need it (AEAD output = input length). */
const outLen = new Uint8Array(4);
const EMPTY = new Uint8Array(0);

function load(): Native | null {
  const opened = openLibrary(LIBRARIES, SYMBOLS);
  if (!opened) {
    rootLogger.info(
      "shadowsocks: OpenSSL's libcrypto is not at any of its usual paths (or FFI is denied): AEAD ciphers run on Deno's crypto, about 3x slower for AES-GCM",
    );
    return null;
  }
  const { lib } = opened;
  const s = lib.symbols;
  const slots: Native["slots"] = {};
  const ciphers: [NativeAlg, Deno.PointerValue][] = [
    ["aes-128-gcm", s.EVP_aes_128_gcm()],
    ["aes-256-gcm", s.EVP_aes_256_gcm()],
    ["chacha20-poly1305", s.EVP_chacha20_poly1305()],
  ];
  for (const [alg, cipher] of ciphers) {
    const ctx = cipher && s.EVP_CIPHER_CTX_new();
    // The cipher is set once here; every later init passes none and keeps it.
    if (ctx && s.EVP_CipherInit_ex(ctx, cipher, null, null, null, 1) === 1) slots[alg] = { ctx, key: null };
  }
  if (!slots["aes-128-gcm"] || !slots["aes-256-gcm"]) {
    lib.close();
    return null;
  }
  return { lib, slots };
}

/**
 * Turns the native path off (false) or back on (true, the default where allowed). Tests use
 * it to run both paths in one process.
 */
export function setNativeCrypto(on: boolean): void {
  enabled = on;
}

/**
 * True when AEADs created now go through libcrypto. The FFI grant is looked at once, when the
 * library is first loaded (`openLibrary`): gost never revokes a permission, and asking Deno again
 * for every key cost ~8 µs, two keys a connection on each side.
 */
export function nativeCryptoActive(): boolean {
  if (!enabled) return false;
  if (native === undefined) native = load();
  return native !== null;
}

/** One AEAD key sealed and opened by libcrypto. Every call is synchronous. */
export class NativeAead {
  private constructor(
    readonly n: Native,
    readonly slot: Slot,
    readonly key: Uint8Array<ArrayBuffer>,
  ) {}

  /** The AEAD for `alg` with `key`, or null when libcrypto is not available or turned off. */
  static create(alg: NativeAlg, key: Uint8Array): NativeAead | null {
    if (!nativeCryptoActive()) return null;
    const slot = native!.slots[alg];
    return slot ? new NativeAead(native!, slot, key.slice()) : null;
  }

  /** Sets the context up for one message: the nonce, and the key unless it holds ours already. */
  #init(nonce: Uint8Array, encrypt: boolean): Deno.PointerObject {
    if (nonce.length !== NONCE) throw new Error(`AEAD nonce of ${nonce.length} bytes, want ${NONCE}`);
    const slot = this.slot;
    const key = slot.key === this.key ? null : this.key;
    // Until it succeeds the context holds no key we know of.
    slot.key = null;
    if (
      this.n.lib.symbols.EVP_CipherInit_ex(
        slot.ctx,
        null,
        null,
        key,
        nonce as Uint8Array<ArrayBuffer>,
        encrypt ? 1 : 0,
      ) !== 1
    ) {
      throw new Error("libcrypto: cipher init failed");
    }
    slot.key = this.key;
    return slot.ctx;
  }

  /**
   * Seals `plain` into `out` at `off`: ciphertext then tag, `plain.length + 16` bytes. `plain`
   * may be exactly those bytes of `out` (in place); any other overlap is refused.
   */
  seal(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array, off: number): void {
    const n = plain.length;
    if (off < 0 || off + n + TAG > out.length) throw new RangeError("AEAD output does not fit");
    const dst = out.subarray(off, off + n) as Uint8Array<ArrayBuffer>;
    if (plain.buffer === out.buffer && plain.byteOffset !== dst.byteOffset) {
      const a = plain.byteOffset, b = dst.byteOffset;
      if (a < b + n && b < a + n) throw new RangeError("AEAD input and output overlap");
    }
    const s = this.n.lib.symbols;
    const ctx = this.#init(nonce, true);
    if (n > 0 && s.EVP_CipherUpdate(ctx, dst, outLen, plain as Uint8Array<ArrayBuffer>, n) !== 1) {
      throw new Error("libcrypto: seal failed");
    }
    const tag = out.subarray(off + n, off + n + TAG) as Uint8Array<ArrayBuffer>;
    if (
      s.EVP_CipherFinal_ex(ctx, tag, outLen) !== 1 || s.EVP_CIPHER_CTX_ctrl(ctx, CTRL_GET_TAG, TAG, tag) !== 1
    ) {
      throw new Error("libcrypto: seal failed");
    }
  }

  /** Opens `sealed` (ciphertext then tag) into fresh bytes; null when it does not authenticate. */
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < TAG) return null;
    const plain = sealed.length > TAG ? new Uint8Array(sealed.length - TAG) : EMPTY;
    return this.openTo(nonce, sealed, plain, 0) ? plain : null;
  }

  /**
   * Opens `sealed` (ciphertext then tag) into `out` at `off`, `sealed.length - 16` bytes; false
   * when it does not authenticate (`out` may then hold garbage there). The output may be
   * `sealed`'s own first bytes (in place); any other overlap is refused.
   */
  openTo(nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array, off: number): boolean {
    if (sealed.length < TAG) return false;
    const n = sealed.length - TAG;
    if (off < 0 || off + n > out.length) throw new RangeError("AEAD output does not fit");
    const dst = out.subarray(off, off + n) as Uint8Array<ArrayBuffer>;
    if (sealed.buffer === out.buffer && sealed.byteOffset !== dst.byteOffset) {
      const a = sealed.byteOffset, b = dst.byteOffset;
      if (a < b + n && b < a + n) throw new RangeError("AEAD input and output overlap");
    }
    const s = this.n.lib.symbols;
    const ctx = this.#init(nonce, false);
    const tag = sealed.subarray(n) as Uint8Array<ArrayBuffer>;
    if (s.EVP_CIPHER_CTX_ctrl(ctx, CTRL_SET_TAG, TAG, tag) !== 1) return false;
    if (n > 0 && s.EVP_CipherUpdate(ctx, dst, outLen, sealed as Uint8Array<ArrayBuffer>, n) !== 1) {
      return false;
    }
    // Final checks the tag; it writes no bytes for these ciphers, so a scratch pointer will do.
    return s.EVP_CipherFinal_ex(ctx, outLen, outLen) === 1;
  }
}
