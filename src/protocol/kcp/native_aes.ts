/**
 * kcp-go's AES-CFB (CFB-128 with the fixed IV on every packet) through OpenSSL's libcrypto, in
 * place, where the process may load it (gost is granted FFI for libcrypto's usual paths,
 * core/ffi.ts). Elsewhere crypt.ts's `AesCfb` on `node:crypto` serves.
 *
 * Why: `node:crypto`'s `update()` returns a fresh buffer for every call, so every datagram cost
 * an ArrayBuffer in each direction (a third of what the KCP path allocated per datagram, all of
 * it garbage at once); libcrypto encrypts the datagram's own bytes and allocates nothing. Two
 * calls per datagram: reset the IV (the key schedule is kept), then one pass.
 * @module
 */
import { openLibrary } from "../../core/ffi.ts";
import { EVP_CIPHER_SYMBOLS, LIBCRYPTO_PATHS as LIBRARIES } from "../../core/libcrypto.ts";

const SYMBOLS = {
  ...EVP_CIPHER_SYMBOLS,
  EVP_aes_128_cfb128: { parameters: [], result: "pointer" },
  EVP_aes_192_cfb128: { parameters: [], result: "pointer" },
  EVP_aes_256_cfb128: { parameters: [], result: "pointer" },
} as const;
type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;

let lib: Lib | null | undefined;
/** OpenSSL writes the output length here; CFB's output is always the input's length. */
const outLen = new Uint8Array(4);

/** AES-CFB in place with libcrypto: one context for each direction. */
export class NativeAesCfb {
  private constructor(
    readonly lib: Lib,
    readonly enc: Deno.PointerObject,
    readonly dec: Deno.PointerObject,
    readonly iv: Uint8Array<ArrayBuffer>,
  ) {}

  /** The cipher for a 16-, 24- or 32-byte key with `iv` on every packet, or null without libcrypto. */
  static create(key: Uint8Array, iv: Uint8Array): NativeAesCfb | null {
    if (lib === undefined) lib = openLibrary(LIBRARIES, SYMBOLS)?.lib ?? null;
    if (!lib) return null;
    const s = lib.symbols;
    const cipher = key.length === 16
      ? s.EVP_aes_128_cfb128()
      : key.length === 24
      ? s.EVP_aes_192_cfb128()
      : key.length === 32
      ? s.EVP_aes_256_cfb128()
      : null;
    const enc = s.EVP_CIPHER_CTX_new(), dec = s.EVP_CIPHER_CTX_new();
    if (!cipher || !enc || !dec) return null;
    const k = key.slice(), v = iv.slice();
    if (s.EVP_CipherInit_ex(enc, cipher, null, k, v, 1) !== 1) return null;
    if (s.EVP_CipherInit_ex(dec, cipher, null, k, v, 0) !== 1) return null;
    return new NativeAesCfb(lib, enc, dec, v);
  }

  encrypt(b: Uint8Array): void {
    this.#run(this.enc, b);
  }

  decrypt(b: Uint8Array): void {
    this.#run(this.dec, b);
  }

  #run(ctx: Deno.PointerObject, b: Uint8Array): void {
    if (b.length === 0) return;
    const s = this.lib.symbols, buf = b as Uint8Array<ArrayBuffer>;
    // A null cipher and key keep both and restart the keystream from the IV (enc -1: same direction).
    if (
      s.EVP_CipherInit_ex(ctx, null, null, null, this.iv, -1) !== 1 ||
      s.EVP_CipherUpdate(ctx, buf, outLen, buf, b.length) !== 1
    ) throw new Error("libcrypto: AES-CFB failed");
  }
}
