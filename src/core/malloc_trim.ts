/**
 * Gives memory back to the system after a burst of connections.
 *
 * Socket buffers and ArrayBuffer backing stores come from the C library's malloc. When a burst
 * ends, V8 frees them, but glibc keeps the freed memory in its arenas: measured with 9,000
 * concurrent connections through one tcp forward, RSS went 49 MiB idle → 331 MiB at peak → 167 MiB
 * 60 s after they closed, of which ~95 MiB was free memory glibc held. One `malloc_trim(0)` brought
 * it to 71 MiB. Edge hosts are often routers with little memory, so a timer checks how much free
 * memory malloc holds (`mallinfo2`) and trims when that is more than {@link TRIM_THRESHOLD}.
 *
 * glibc only (2.33+ for `mallinfo2`), through the libc FFI grant (core/ffi.ts); musl returns
 * freed memory itself and has no such calls, and without the grant nothing runs.
 * @module
 */
import { NATIVE_LIBRARIES, openLibrary } from "./ffi.ts";
import type { Logger } from "./log.ts";

/** Free bytes in malloc's arenas above which the reclaimer trims. */
export const TRIM_THRESHOLD = 32 << 20;

/** How often the reclaimer looks. */
export const TRIM_INTERVAL_MS = 5_000;

const SYMBOLS = {
  malloc_trim: { parameters: ["usize"], result: "i32" },
  // struct mallinfo2: ten size_t fields, `fordblks` (total free bytes in the arenas) the ninth.
  mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
} as const;
const FORDBLKS = 8;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;
let libc: Libc | null | undefined;

function open(): Libc | null {
  if (libc === undefined) libc = openLibrary(NATIVE_LIBRARIES.libc, SYMBOLS)?.lib ?? null;
  return libc;
}

/** True when this process can measure and trim malloc's free memory (glibc, FFI granted). */
export function canTrim(): boolean {
  return open() !== null;
}

/** Free bytes held in malloc's arenas, or -1 when it cannot be asked. */
export function mallocFreeBytes(): number {
  const c = open();
  if (!c) return -1;
  const info = c.symbols.mallinfo2() as Uint8Array;
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  return Number(view.getBigUint64(FORDBLKS * 8, true));
}

/** Result of one look: what RSS and malloc's free figure were, and what a trim returned (bytes). */
export interface TrimResult {
  rss: number;
  freeBytes: number;
  trimmed: boolean;
  releasedBytes: number;
  ms: number;
}

/**
 * The lowest RSS and free figure seen since the last trim: a new trim is worth it only once
 * either has grown above them. Lowest, not as the trim left them: V8 gives its own heap pages
 * back by itself, so RSS can fall below the last trim's and then never "grow" past it again
 * (measured: a full soak ended at 204 MiB, 2.8× idle, and a trim by hand took it to 131).
 */
export interface TrimBaseline {
  rss: number;
  freeBytes: number;
}

/**
 * Trims when malloc holds more than `threshold` free bytes and, after an earlier trim, RSS or
 * the free figure has grown by `growth` over `since` (the free figure still counts pages a trim
 * gave back, so alone it would trim again every time for nothing). Null when it cannot be asked.
 */
export function trimIfWorthIt(
  threshold = TRIM_THRESHOLD,
  since?: TrimBaseline,
  growth = threshold / 2,
): TrimResult | null {
  const c = open();
  if (!c) return null;
  const freeBytes = mallocFreeBytes();
  const rss = Deno.memoryUsage().rss;
  const grown = !since || rss - since.rss >= growth || freeBytes - since.freeBytes >= growth;
  if (freeBytes < threshold || !grown) return { rss, freeBytes, trimmed: false, releasedBytes: 0, ms: 0 };
  const started = performance.now();
  c.symbols.malloc_trim(0n);
  const ms = performance.now() - started;
  return { rss, freeBytes, trimmed: true, releasedBytes: Math.max(0, rss - Deno.memoryUsage().rss), ms };
}

/** The baseline after a look: reset by a trim, else lowered to what was seen. */
export function nextBaseline(r: TrimResult, since?: TrimBaseline): TrimBaseline {
  if (r.trimmed || !since) return { rss: r.rss - r.releasedBytes, freeBytes: r.freeBytes };
  return { rss: Math.min(since.rss, r.rss), freeBytes: Math.min(since.freeBytes, r.freeBytes) };
}

/**
 * Starts the periodic check (a timer that does not keep the process alive). Call once per
 * process, from the main thread: malloc is shared by all threads. Returns a stop function.
 */
export function startMallocTrimmer(log: Logger, intervalMs = TRIM_INTERVAL_MS): () => void {
  if (!canTrim()) {
    log.debug("memory: malloc_trim unavailable (not glibc 2.33+, or no FFI grant for libc): not trimming");
    return () => {};
  }
  let since: TrimBaseline | undefined;
  const timer = setInterval(() => {
    const r = trimIfWorthIt(TRIM_THRESHOLD, since);
    if (!r) return;
    // Before the first trim there is no baseline: the threshold alone decides.
    if (r.trimmed || since) since = nextBaseline(r, since);
    if (r.trimmed) {
      const mib = (n: number) => (n / (1 << 20)).toFixed(1);
      log.debug(
        `memory: malloc held ${mib(r.freeBytes)} MiB free; trimmed ${mib(r.releasedBytes)} MiB in ${
          r.ms.toFixed(1)
        } ms`,
      );
    }
  }, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
