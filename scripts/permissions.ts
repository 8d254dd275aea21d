/**
 * The permissions gost runs with — the narrowest set that serves every feature — shared by
 * `deno task gost`, the compiled binaries (`deno task compile`), the tests and the benchmark.
 * tests/e2e/compile_test.ts checks that deno.json's `gost` task uses exactly these (after
 * {@link SOURCE_RUN_FLAGS} and {@link V8_FLAGS}).
 * @module
 */
import { FFI_PATHS } from "../src/core/ffi.ts";
import { LOG_DIR } from "../src/core/log.ts";

export { LOG_DIR };

/** Environment names gost reads: its log level, API and metrics overrides, and HOME for `~/.gost/gost.yaml`. */
export const ENV_NAMES = ["GOST_LOGGER_LEVEL", "GOST_API", "GOST_METRICS", "HOME"];

/**
 * - `--allow-net`: it is a proxy (listen, connect, resolve names);
 * - `--allow-read`: config, certificate, key and kcp config files wherever the config names them;
 * - `--allow-env=…`: only {@link ENV_NAMES};
 * - `--allow-write=/var/log/gost`: log files, nowhere else;
 * - `--allow-ffi=<paths>`: loading exactly the library files of {@link FFI_PATHS} (OpenSSL's
 *   libcrypto for shadowsocks', ssh's and KCP's ciphers, 3x Deno's AES-GCM; libssl for the TLS
 *   client of unverified handshakes; libc for KCP's socket buffers and splice), at the places
 *   distributions put them; no other native code.
 * No running programs, no system information, no other environment variables.
 */
export const GOST_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  `--allow-env=${ENV_NAMES.join(",")}`,
  `--allow-write=${LOG_DIR}`,
  `--allow-ffi=${FFI_PATHS.join(",")}`,
];

/**
 * What `deno run` from source (`deno task gost`, `deno install`) adds: read only the modules
 * the config uses. Without it Deno reads, hashes and analyses every module any config could
 * load (~170 files, ssh2's and KCP's included) before the first line runs; with it a TCP
 * forward starts with ~4 ms less CPU and ~1.7 MiB less memory (tests/bench/startup.ts).
 * Never for `deno compile`, where it would leave the lazily loaded protocols out of the binary.
 */
export const SOURCE_RUN_FLAGS = ["--unstable-lazy-dynamic-imports"];

/**
 * V8 flags for every way gost runs (`deno task gost`, `deno install`, the compiled binaries):
 * - `--no-concurrent-recompilation`: optimising compiles run on the main thread instead of a
 *   background one. A proxy's hot code is small and compiled once, so throughput is unchanged
 *   (tcp forward bench, 1 and 4 streams, conn/s), while an idle process holds ~2-5 MiB less (no
 *   background compile thread's malloc arena) and starts with ~2 ms less CPU
 *   (tests/bench/startup.ts). On a one- or two-core edge box that thread had no core of its own.
 * - `--max-semi-space-size=4` and `--heap-growing-percent=50`: a young generation of at most 2 × 4
 *   MiB (V8 grows it to 2 × 16 MiB under load) and an old generation allowed 1.5× its live size
 *   before the next full collection (V8 lets it grow up to 4×). Under KCP load (kcp_cpu.ts) the two
 *   processes peak at ~177 MB instead of ~234, at the same rate and CPU per MB; CPU per connection
 *   (tcp forward, relay+tls, ss, http; paired windows) and CPU per GB of a tcp forward stay within
 *   the runs' spread.
 */
export const V8_FLAGS = [
  "--v8-flags=--no-concurrent-recompilation,--max-semi-space-size=4,--heap-growing-percent=50",
];

/**
 * Flags that take the FFI grant back (tests and bench rows of the fallback path: Deno's crypto, default
 * socket buffers). A bare `--deny-ffi` does not override a grant for a path; a denial of the same paths does.
 */
export const NO_FFI_FLAGS = [`--deny-ffi=${FFI_PATHS.join(",")}`];

/** Everything `deno task gost` passes before the entry module: what tests and the bench run gost with too. */
export const GOST_RUN_FLAGS = [...SOURCE_RUN_FLAGS, ...V8_FLAGS, ...GOST_PERMISSIONS];
