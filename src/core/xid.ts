/**
 * Connection ids in the shape gost logs as `sid` (github.com/rs/xid): 12 bytes — seconds since the
 * epoch, a 3-byte machine id, the process id, a 3-byte counter — written as 20 characters of
 * lowercase base32hex. Sortable by time and unique without coordination.
 * @module
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuv";
// Random per isolate (xid hashes the host id): worker threads of one process then never collide.
const machine = crypto.getRandomValues(new Uint8Array(3));
const pid = Deno.pid & 0xffff;
let counter = crypto.getRandomValues(new Uint32Array(1))[0] & 0xffffff;
const raw = new Uint8Array(12);

/** A new id, e.g. `"d4bqcf9rg6btbpqc0ulg"`. */
export function newXid(now = Date.now()): string {
  const secs = Math.floor(now / 1000);
  raw[0] = secs >>> 24, raw[1] = secs >>> 16, raw[2] = secs >>> 8, raw[3] = secs;
  raw.set(machine, 4);
  raw[7] = pid >>> 8, raw[8] = pid;
  counter = (counter + 1) & 0xffffff;
  raw[9] = counter >>> 16, raw[10] = counter >>> 8, raw[11] = counter;
  return encodeXid(raw);
}

/** Base32hex (lowercase, unpadded) of 12 bytes: 20 characters, the last one carrying the last bit. */
export function encodeXid(b: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 12; i++) {
    acc = (acc << 8) | b[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}
