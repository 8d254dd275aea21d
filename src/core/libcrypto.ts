/**
 * What every binding to OpenSSL's libcrypto shares (shadowsocks' AEADs, ssh's ciphers, KCP's
 * AES-CFB): where the library is looked for and the EVP cipher calls each of them makes. Each
 * binding adds the cipher getters it needs and opens the library with {@link openLibrary}.
 * @module
 */
import { NATIVE_LIBRARIES } from "./ffi.ts";

/**
 * OpenSSL 3, then 1.1, at the usual paths (the ones gost is granted), then bare names, which
 * only blanket FFI (`--allow-ffi`, `-A`) may load: a library elsewhere than the usual places.
 */
export const LIBCRYPTO_PATHS: readonly string[] = [
  ...NATIVE_LIBRARIES.libcrypto,
  "libcrypto.so.3",
  "libcrypto.so.1.1",
  "libcrypto.3.dylib",
];

/** The EVP calls of a cipher context: create, set key and IV, run, finish, and AEAD tags. */
export const EVP_CIPHER_SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
} as const;

/** EVP_CTRL_AEAD_GET_TAG / SET_TAG (the GCM and ChaCha20-Poly1305 names share the values). */
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
export const EVP_CTRL_AEAD_SET_TAG = 0x11;
