/**
 * Joining byte arrays: the one copy a message builder needs once its parts are known.
 * @module
 */

/** The bytes of `parts` one after another, in a new array. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
