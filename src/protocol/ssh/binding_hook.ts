/**
 * Gives ssh2 our libcrypto classes where it looks for its optional native addon. ssh2's
 * `lib/protocol/crypto.js` asks `require()` for `./crypto/build/Release/sshcrypto.node` once,
 * when it loads, and uses the addon's classes for every packet when that succeeds; under Deno
 * it never exists. Importing this module (before ssh2, see ssh2.ts) answers that one request
 * with {@link sshCryptoBinding}; every other `require()` is passed on unchanged. Without
 * libcrypto (or its FFI grant) the request fails as before and ssh2 stays on `node:crypto`.
 * @module
 */
import Module from "node:module";
import { rootLogger } from "../../core/log.ts";
import { sshCryptoBinding } from "./native_crypto.ts";

const ADDON = "sshcrypto.node";

/** Which path ssh2's ciphers took: set once ssh2 has asked for its addon. */
export const sshCrypto = { native: false, chacha20: false };

// deno-lint-ignore no-explicit-any
const mod = Module as any;
const load = mod._load;
mod._load = function (request: string, parent: unknown, isMain: boolean) {
  if (typeof request === "string" && request.endsWith(ADDON)) {
    const binding = sshCryptoBinding();
    if (binding) {
      sshCrypto.native = true;
      sshCrypto.chacha20 = "ChaChaPolyCipher" in binding;
      return binding;
    }
    rootLogger.info(
      "ssh: OpenSSL's libcrypto is not at any of its usual paths (or FFI is denied): ciphers run on Deno's crypto, about half the speed",
    );
  }
  return load.call(this, request, parent, isMain);
};

/** Puts `require()` back as it was, once ssh2 has loaded (it asks for its addon only then). */
export function uninstallBindingHook(): void {
  mod._load = load;
}
