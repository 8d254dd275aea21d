/**
 * A small seeded mutator for the fuzz harness: a xorshift PRNG and AFL-style byte mutations
 * (bit flips, interesting values in length-sized fields, deletes, inserts, duplicated ranges,
 * splices with other seeds). Deterministic for a seed, so a failure can be replayed.
 *
 * Why not fast-check: our inputs are bytes on the wire, and mutating captured messages reaches
 * deep parser states (valid version, valid length, broken tail) far sooner than generated
 * arbitraries; a loop of plain function calls runs a million inputs per parser in seconds to
 * minutes, where a property runner's per-run bookkeeping would dominate; and a failing input is
 * printed whole (a few hundred bytes at most), so shrinking adds little. No dependency, no lock entry.
 * @module
 */

/** xorshift128+ reduced to 32-bit output; fast and good enough to pick mutations. */
export class Rng {
  #a: number;
  #b: number;

  constructor(seed: number) {
    this.#a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.#b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
    for (let i = 0; i < 8; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let s1 = this.#a;
    const s0 = this.#b;
    this.#a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0 ^ (s0 >>> 26);
    this.#b = s1 >>> 0;
    return (this.#b + s0) >>> 0;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

const BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x0d, 0x0a, 0x20];
const WORDS = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfffe, 0xffff];
const DWORDS = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x1000000];

/** Writes `v` as `n` bytes at `at`, little or big endian. */
function put(buf: Uint8Array, at: number, v: number, n: number, le: boolean): void {
  for (let i = 0; i < n && at + i < buf.length; i++) {
    const shift = 8 * (le ? i : n - 1 - i);
    buf[at + i] = Math.floor(v / 2 ** shift) & 0xff;
  }
}

/** One mutation of `src` (a fresh array; `src` is left alone). */
function mutateOnce(rng: Rng, src: Uint8Array, seeds: Uint8Array[]): Uint8Array {
  const n = src.length;
  const at = rng.below(n);
  switch (rng.below(13)) {
    case 0: { // flip a bit
      if (!n) break;
      const out = src.slice();
      out[at] ^= 1 << rng.below(8);
      return out;
    }
    case 1: { // a random byte
      if (!n) break;
      const out = src.slice();
      out[at] = rng.next() & 0xff;
      return out;
    }
    case 2: { // an interesting byte
      if (!n) break;
      const out = src.slice();
      out[at] = BYTES[rng.below(BYTES.length)];
      return out;
    }
    case 3: // an interesting 16- or 32-bit value (length fields), or the input's own length
    case 4: {
      if (n < 2) break;
      const out = src.slice();
      const wide = rng.oneIn(2);
      const table = wide ? DWORDS : WORDS;
      let v = rng.oneIn(4) ? n + rng.below(5) - 2 : table[rng.below(table.length)];
      if (v < 0) v = 0;
      put(out, at, v, wide ? 4 : 2, rng.oneIn(2));
      return out;
    }
    case 5: { // add or subtract a little (off-by-one lengths)
      if (!n) break;
      const out = src.slice();
      out[at] = (out[at] + rng.below(33) - 16) & 0xff;
      return out;
    }
    case 6: { // delete a range
      if (!n) break;
      const len = 1 + rng.below(Math.min(n - at, 16));
      const out = new Uint8Array(n - len);
      out.set(src.subarray(0, at));
      out.set(src.subarray(at + len), at);
      return out;
    }
    case 7: { // insert random bytes
      const len = 1 + rng.below(rng.oneIn(8) ? 512 : 16);
      const out = new Uint8Array(n + len);
      out.set(src.subarray(0, at));
      out.set(rng.bytes(len), at);
      out.set(src.subarray(at), at + len);
      return out;
    }
    case 8: { // duplicate a range (repeated fields, frames)
      if (!n) break;
      const len = 1 + rng.below(Math.min(n - at, 64));
      const times = 1 + rng.below(rng.oneIn(8) ? 64 : 3);
      const out = new Uint8Array(n + len * times);
      out.set(src.subarray(0, at + len));
      for (let i = 1; i <= times; i++) out.set(src.subarray(at, at + len), at + len * i);
      out.set(src.subarray(at + len), at + len * (times + 1));
      return out;
    }
    case 9: // truncate
      return src.slice(0, at);
    case 10: { // splice: this seed's head, another's tail
      const other = seeds[rng.below(seeds.length)];
      const cut = rng.below(other.length + 1);
      const out = new Uint8Array(at + other.length - cut);
      out.set(src.subarray(0, at));
      out.set(other.subarray(cut), at);
      return out;
    }
    case 11: { // append another seed (two messages back to back)
      const other = seeds[rng.below(seeds.length)];
      const out = new Uint8Array(n + other.length);
      out.set(src);
      out.set(other, n);
      return out;
    }
    default: { // overwrite a range with random bytes
      if (!n) break;
      const out = src.slice();
      const len = 1 + rng.below(Math.min(n - at, 8));
      out.set(rng.bytes(len), at);
      return out;
    }
  }
  return rng.bytes(1 + rng.below(16));
}

/**
 * The next fuzz input: usually 1 to 8 stacked mutations of a seed, sometimes (1 in 16)
 * random bytes of a random length.
 */
export function mutate(rng: Rng, seeds: Uint8Array[]): Uint8Array {
  if (seeds.length === 0 || rng.oneIn(16)) return rng.bytes(rng.below(rng.oneIn(4) ? 2048 : 64));
  let out = seeds[rng.below(seeds.length)];
  const rounds = 1 << rng.below(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(rng, out, seeds);
  return out;
}

/** Bytes as lowercase hex. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

/** Bytes from hex digits. */
export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The lines of a `seeds/*.txt` file (`<id> <direction> <hex>` lines, `#` comments). */
function seedLines(name: string): string[][] {
  const text = Deno.readTextFileSync(new URL(`./seeds/${name}.txt`, import.meta.url));
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(" "));
}

/** The seeds of a `seeds/*.txt` file: each captured message on its own. */
export function loadSeeds(name: string): Uint8Array[] {
  return seedLines(name).map((l) => fromHex(l[2]));
}

/**
 * Each captured message, and the messages of one vector and direction joined in order (a
 * whole exchange: method offer, user/pass, request), so that later stages of a handshake
 * get valid earlier ones in front of them.
 */
export function loadStreams(name: string): Uint8Array[] {
  const joined = new Map<string, string>();
  for (const [id, dir, hex] of seedLines(name)) {
    joined.set(`${id} ${dir}`, (joined.get(`${id} ${dir}`) ?? "") + hex);
  }
  return [...loadSeeds(name), ...[...joined.values()].map(fromHex)];
}
