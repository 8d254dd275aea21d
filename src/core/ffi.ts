/**
 * Native libraries through Deno's FFI, only where the process may load them. gost runs with FFI
 * granted for exactly the library files in {@link NATIVE_LIBRARIES} (`--allow-ffi=<those paths>`,
 * scripts/permissions.ts), or for anything under `--allow-ffi`/`-A`. Everything built on this is an
 * optional speed-up with a pure Deno fallback: without the permission, or without the library,
 * callers get null and go on without it.
 * @module
 */

/**
 * Where the Linux distributions gost's users run (Debian/Ubuntu, RHEL/Fedora, Alpine, Arch, OpenWrt,
 * x86_64 and aarch64) and macOS package managers put the libraries gost can use: OpenSSL's
 * libcrypto (shadowsocks', ssh's and KCP's ciphers), OpenSSL's libssl (the TLS client of gost's
 * default, unverified handshakes) and the C library (KCP's socket buffers, splice). Deno matches an
 * `--allow-ffi` path by its text, so each is opened by exactly this path.
 */
export const NATIVE_LIBRARIES = {
  libcrypto: [
    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", // Debian, Ubuntu
    "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
    "/usr/lib64/libcrypto.so.3", // RHEL, Fedora, openSUSE
    "/usr/lib/libcrypto.so.3", // Arch, Alpine, OpenWrt
    "/lib/libcrypto.so.3", // Alpine before 3.19
    "/usr/lib/x86_64-linux-gnu/libcrypto.so.1.1", // Debian 11, Ubuntu 20.04
    "/usr/lib/aarch64-linux-gnu/libcrypto.so.1.1",
    "/usr/lib64/libcrypto.so.1.1",
    "/usr/lib/libcrypto.so.1.1",
    "/opt/homebrew/lib/libcrypto.3.dylib", // macOS, Homebrew
    "/usr/local/lib/libcrypto.3.dylib",
  ],
  libssl: [
    "/usr/lib/x86_64-linux-gnu/libssl.so.3", // Debian, Ubuntu
    "/usr/lib/aarch64-linux-gnu/libssl.so.3",
    "/usr/lib64/libssl.so.3", // RHEL, Fedora, openSUSE
    "/usr/lib/libssl.so.3", // Arch, Alpine, OpenWrt
    "/lib/libssl.so.3", // Alpine before 3.19
    "/usr/lib/x86_64-linux-gnu/libssl.so.1.1", // Debian 11, Ubuntu 20.04
    "/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
    "/usr/lib64/libssl.so.1.1",
    "/usr/lib/libssl.so.1.1",
    "/opt/homebrew/lib/libssl.3.dylib", // macOS, Homebrew
    "/usr/local/lib/libssl.3.dylib",
  ],
  libc: [
    "/lib/x86_64-linux-gnu/libc.so.6", // Debian, Ubuntu
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6", // RHEL, Fedora, openSUSE
    "/usr/lib/libc.so.6", // Arch
    "/lib/ld-musl-x86_64.so.1", // Alpine (musl)
    "/lib/ld-musl-aarch64.so.1",
    "/lib/libc.so", // OpenWrt (musl)
  ],
} as const;

/** Every library path gost is granted FFI for. */
export const FFI_PATHS: readonly string[] = [
  ...NATIVE_LIBRARIES.libcrypto,
  ...NATIVE_LIBRARIES.libssl,
  ...NATIVE_LIBRARIES.libc,
];

/** True when this process may load `path` (or, without a path, any native library). */
export function ffiAllowed(path?: string): boolean {
  try {
    const desc: Deno.PermissionDescriptor = path === undefined ? { name: "ffi" } : { name: "ffi", path };
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/** A library that opened, and the path it was opened by. */
export interface OpenedLibrary<S extends Deno.ForeignLibraryInterface> {
  lib: Deno.DynamicLibrary<S>;
  path: string;
}

/**
 * The first of `paths` that this process may load and that opens with `symbols`, or null (no
 * permission for any, none present). Bare names in `paths` are tried only under blanket FFI.
 */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  paths: readonly string[],
  symbols: S,
): OpenedLibrary<S> | null {
  for (const path of paths) {
    if (!ffiAllowed(path.startsWith("/") ? path : undefined)) continue;
    try {
      return { lib: Deno.dlopen(path, symbols), path };
    } catch {
      // not here under this name: try the next
    }
  }
  return null;
}

/** The signature of libc's `getrlimit`, for {@link fileLimit}. */
export const GETRLIMIT = { parameters: ["i32", "buffer"], result: "i32" } as const;

/** The soft limit on open descriptors (RLIMIT_NOFILE, Linux), or null when libc will not say. */
export function fileLimit(c: { getrlimit(resource: number, rlimit: Uint8Array): number }): number | null {
  const limit = new BigUint64Array(2);
  if (c.getrlimit(7, /* RLIMIT_NOFILE */ new Uint8Array(limit.buffer)) !== 0) return null;
  return Number(limit[0] > 1n << 52n ? 1n << 52n : limit[0]);
}
