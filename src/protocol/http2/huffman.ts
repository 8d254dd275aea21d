/**
 * HPACK's Huffman coding of header strings (RFC 7541, section 5.2 and Appendix B).
 * @module
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman_table.ts";

/** A string that is not valid HPACK Huffman code. */
export class HuffmanError extends Error {
  constructor(message: string) {
    super(`hpack huffman: ${message}`);
    this.name = "HuffmanError";
  }
}

const EOS = 256;

/**
 * The code as a binary tree in one array: node `n` has children at `tree[2n]` (bit 0) and
 * `tree[2n + 1]` (bit 1); a child >= 0 is another node, -1 - s a leaf for symbol s, 0 absent
 * (node 0 is the root, never a child).
 */
const tree = (() => {
  const t = new Int32Array(2 * 512);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym], len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      if (t[slot] === 0) t[slot] = nodes++;
      node = t[slot];
    }
    t[2 * node + (code & 1)] = -1 - sym;
  }
  return t;
})();

/** Decodes Huffman-coded `src`; throws {@link HuffmanError} on a bad code or padding. */
export function huffmanDecode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((src.length * 8) / 5));
  let n = 0, node = 0, depth = 0, ones = true;
  for (const byte of src) {
    for (let i = 7; i >= 0; i--) {
      const bit = (byte >>> i) & 1;
      const next = tree[2 * node + bit];
      depth++;
      ones &&= bit === 1;
      if (next < 0) {
        const sym = -1 - next;
        if (sym === EOS) throw new HuffmanError("EOS inside a string");
        out[n++] = sym;
        node = 0;
        depth = 0;
        ones = true;
      } else {
        node = next;
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (depth > 7) throw new HuffmanError("padding longer than 7 bits");
  if (!ones) throw new HuffmanError("padding that is not all ones");
  return out.subarray(0, n);
}

/** Length in bytes of `src` Huffman-coded. */
export function huffmanLength(src: Uint8Array): number {
  let bits = 0;
  for (const b of src) bits += HUFFMAN_LENGTHS[b];
  return Math.ceil(bits / 8);
}

/** Huffman-codes `src` (padded with ones to a whole byte). */
export function huffmanEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanLength(src));
  let acc = 0, bits = 0, n = 0;
  for (const b of src) {
    const code = HUFFMAN_CODES[b], len = HUFFMAN_LENGTHS[b];
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >>> i) & 1);
      if (++bits === 8) {
        out[n++] = acc;
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out[n] = (acc << (8 - bits)) | ((1 << (8 - bits)) - 1);
  return out;
}
