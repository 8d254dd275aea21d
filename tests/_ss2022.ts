/**
 * Reading Shadowsocks 2022 bytes the way the other side does, for tests that check what we
 * put on the wire: one direction of a TCP stream as sealed messages of known sizes.
 */
import assert from "node:assert/strict";
import { Aead, blake3Subkey, type MethodInfo, NONCE_SIZE } from "../src/protocol/ss/cipher.ts";

/** The AEAD nonce number `n` (12 bytes, little-endian). */
export function ssNonce(n: number): Uint8Array {
  const b = new Uint8Array(NONCE_SIZE);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** One direction of a 2022 TCP stream (salt first), opened message by message. */
export class ChunkReader {
  #off: number;
  #n = 0;
  readonly aead: Aead;

  constructor(readonly bytes: Uint8Array, method: MethodInfo, psk: Uint8Array) {
    this.aead = Aead.create(method.aead, blake3Subkey(psk, bytes.subarray(0, method.saltSize)));
    this.#off = method.saltSize;
  }

  /** Bytes not read yet. */
  get left(): number {
    return this.bytes.length - this.#off;
  }

  /** Opens the next sealed message of `len` plaintext bytes (it must authenticate). */
  open(len: number): Uint8Array {
    const sealed = this.bytes.subarray(this.#off, this.#off + len + 16);
    const plain = this.aead.openSync(ssNonce(this.#n++), sealed);
    assert.ok(plain, `message ${this.#n - 1} (${len} bytes) does not authenticate`);
    this.#off += len + 16;
    return plain.slice();
  }

  /** Ordinary chunks (sealed length, sealed payload) to the end, joined. */
  rest(): Uint8Array {
    const out: number[] = [];
    while (this.left > 0) {
      const l = this.open(2);
      out.push(...this.open((l[0] << 8) | l[1]));
    }
    return Uint8Array.from(out);
  }
}
