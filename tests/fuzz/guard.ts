/**
 * Allocation guard for the fuzz worker: replaces the global `Uint8Array` and `ArrayBuffer`
 * constructors with subclasses that refuse sizes above {@link ALLOC_LIMIT}, so that a length
 * field which makes a parser allocate hugely fails at once (with the input that did it)
 * instead of passing unnoticed on a machine with memory to spare. `instanceof` keeps
 * answering for arrays made anywhere. Imported first by the worker, never by gost.
 * @module
 */

/** The largest single buffer a parser may allocate while fuzzed (no wire field needs more). */
export const ALLOC_LIMIT = 16 * 1024 * 1024;

/** A parser tried to allocate more than {@link ALLOC_LIMIT} at once. */
export class AllocationTooLarge extends Error {
  constructor(readonly size: number) {
    super(`allocation of ${size} bytes (limit ${ALLOC_LIMIT})`);
    this.name = "AllocationTooLarge";
  }
}

const OrigU8 = Uint8Array;
const OrigAB = ArrayBuffer;

class GuardedUint8Array extends OrigU8 {
  constructor(a?: any, b?: any, c?: any) {
    if (typeof a === "number" && a > ALLOC_LIMIT) throw new AllocationTooLarge(a);
    super(a, b, c);
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof OrigU8;
  }
}

class GuardedArrayBuffer extends OrigAB {
  constructor(n: number, opts?: { maxByteLength?: number }) {
    if (n > ALLOC_LIMIT) throw new AllocationTooLarge(n);
    super(n, opts);
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof OrigAB;
  }
}

/** Installs the guard in this isolate (the fuzz worker). */
export function installAllocationGuard(): void {
  (globalThis as any).Uint8Array = GuardedUint8Array;
  (globalThis as any).ArrayBuffer = GuardedArrayBuffer;
}
