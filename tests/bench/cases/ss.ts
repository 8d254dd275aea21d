/**
 * Shadowsocks (issue 7): a gost-deno ss client and server per method, beside
 * shadowsocks-libev's ss-tunnel → ss-server on the same path.
 * @module
 */
import { NO_FFI_FLAGS } from "../../../scripts/permissions.ts";
import type { BenchCase } from "../types.ts";

const PASS = "bench-pass";
/** Fixed base64 keys for the 2022 methods (benchmarks only). */
const KEYS: Record<string, string> = {
  "2022-blake3-aes-128-gcm": "AAECAwQFBgcICQoLDA0ODw==",
  "2022-blake3-aes-256-gcm": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
};

const METHODS = [
  "aes-128-gcm",
  "aes-256-gcm",
  "chacha20-ietf-poly1305",
  "2022-blake3-aes-128-gcm",
  "2022-blake3-aes-256-gcm",
];

export const cases: BenchCase[] = METHODS.flatMap((method) => [
  ssCase(method),
  // The same path without FFI: Deno's own crypto, the fallback where libcrypto is not installed.
  {
    ...ssCase(method),
    name: `ss ${method}, no FFI`,
    denoFlags: NO_FFI_FLAGS,
    denoOnly: true,
    peers: [],
  },
]);

function ssCase(method: string): BenchCase {
  const secret = encodeURIComponent(KEYS[method] ?? PASS);
  const libev = !method.startsWith("2022-");
  return {
    name: `ss ${method}`,
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", `ss://${method}:${secret}@127.0.0.1:$P1`],
      ["-L", `ss://${method}:${secret}@127.0.0.1:$P1`],
    ],
    peers: libev
      ? [{
        name: "shadowsocks-libev",
        needs: ["ss-server", "ss-tunnel"],
        commands: [
          ["ss-server", "-s", "127.0.0.1", "-p", "$P1", "-k", PASS, "-m", method],
          [
            ...["ss-tunnel", "-s", "127.0.0.1", "-p", "$P1", "-b", "127.0.0.1", "-l", "$ENTRY"],
            ...["-k", PASS, "-m", method, "-L", "127.0.0.1:$TARGET"],
          ],
        ],
      }]
      : [],
    measure: ["throughput1", "reverse", "connRate", "idleMemory"],
  };
}
