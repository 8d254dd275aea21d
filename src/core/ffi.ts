/**
 * Native libraries through Deno's FFI, only where the process may load them (`--allow-ffi`, or
 * `-A`). Everything built on this is an optional speed-up with a pure Deno fallback: without
 * the permission, or without the library, callers get null and go on without it.
 * @module
 */

/** True when this process may load native libraries. */
export function ffiAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** The first of `names` that loads with `symbols`, or null (no permission, no such library). */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  names: readonly string[],
  symbols: S,
): Deno.DynamicLibrary<S> | null {
  if (!ffiAllowed()) return null;
  for (const name of names) {
    try {
      return Deno.dlopen(name, symbols);
    } catch {
      // not here under this name: try the next
    }
  }
  return null;
}
