/**
 * HPACK header compression (RFC 7541): a decoder with its dynamic table (one per connection
 * and direction) and a stateless encoder.
 *
 * The encoder never adds to the peer's dynamic table: it sends a static-table index when name
 * and value match, else a literal "without indexing" (by static name index where there is
 * one), Huffman-coded when that is shorter. Our header blocks are a handful of short fields per
 * stream, so indexing would save little, and a stateless encoder cannot get out of step with
 * the peer's table.
 * @module
 */
import { huffmanDecode, huffmanEncode, huffmanLength } from "./huffman.ts";

/** A header field: lower-case name and value. */
export type HeaderField = [name: string, value: string];

/** A header block that breaks the rules (the connection must end with COMPRESSION_ERROR). */
export class HpackError extends Error {
  constructor(message: string) {
    super(`hpack: ${message}`);
    this.name = "HpackError";
  }
}

/** RFC 7541 Appendix A. */
export const STATIC_TABLE: readonly HeaderField[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** An entry's size in the dynamic table: name and value octets plus 32 (section 4.1). */
const entrySize = (f: HeaderField) => f[0].length + f[1].length + 32;

const latin1 = new TextDecoder("latin1");

/** Decodes header blocks of one connection direction, keeping its dynamic table. */
export class HpackDecoder {
  /** Newest first. */
  readonly #table: HeaderField[] = [];
  #size = 0;
  #maxSize: number;

  /**
   * @param maxTableSize SETTINGS_HEADER_TABLE_SIZE this side announced (default 4096): the most
   *   a dynamic table size update may ask for
   * @param maxListSize the most header-list bytes (RFC 7540 sizing) one block may decode to
   */
  constructor(readonly maxTableSize = 4096, readonly maxListSize = 1 << 20) {
    this.#maxSize = maxTableSize;
  }

  /** The fields of one complete header block. */
  decode(block: Uint8Array): HeaderField[] {
    const out: HeaderField[] = [];
    let listSize = 0;
    const r = { buf: block, pos: 0 };
    let fieldsSeen = false;
    while (r.pos < block.length) {
      const b = block[r.pos];
      let field: HeaderField;
      if (b & 0x80) {
        field = this.#entry(readInt(r, 7));
      } else if ((b & 0xe0) === 0x20) {
        // A size update is allowed only before the first field of a block.
        if (fieldsSeen) throw new HpackError("dynamic table size update after a header field");
        const size = readInt(r, 5);
        if (size > this.maxTableSize) {
          throw new HpackError(`dynamic table size ${size} over the announced ${this.maxTableSize}`);
        }
        this.#maxSize = size;
        this.#evict(0);
        continue;
      } else {
        const indexing = (b & 0xc0) === 0x40;
        const nameIndex = readInt(r, indexing ? 6 : 4);
        const name = nameIndex === 0 ? readString(r) : this.#entry(nameIndex)[0];
        field = [name, readString(r)];
        if (indexing) this.#add(field);
      }
      fieldsSeen = true;
      listSize += entrySize(field);
      if (listSize > this.maxListSize) throw new HpackError(`header list over ${this.maxListSize} bytes`);
      out.push(field);
    }
    return out;
  }

  #entry(index: number): HeaderField {
    if (index === 0) throw new HpackError("index 0");
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    const f = this.#table[index - STATIC_TABLE.length - 1];
    if (!f) throw new HpackError(`index ${index} beyond the tables`);
    return f;
  }

  #add(f: HeaderField): void {
    const size = entrySize(f);
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (section 4.4).
    if (size > this.#maxSize) return;
    this.#table.unshift(f);
    this.#size += size;
  }

  /** Evicts oldest entries until `room` more bytes fit. */
  #evict(room: number): void {
    while (this.#table.length && this.#size + room > this.#maxSize) {
      this.#size -= entrySize(this.#table.pop()!);
    }
  }
}

interface Reader {
  buf: Uint8Array;
  pos: number;
}

/** A prefixed integer (section 5.1); bounded to 2^28 so hostile input cannot overflow. */
function readInt(r: Reader, prefix: number): number {
  if (r.pos >= r.buf.length) throw new HpackError("truncated integer");
  const max = (1 << prefix) - 1;
  let v = r.buf[r.pos++] & max;
  if (v < max) return v;
  for (let shift = 0;; shift += 7) {
    if (r.pos >= r.buf.length) throw new HpackError("truncated integer");
    if (shift > 21) throw new HpackError("integer too large");
    const b = r.buf[r.pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return v;
  }
}

/** A string literal (section 5.2), Huffman-coded or raw. */
function readString(r: Reader): string {
  if (r.pos >= r.buf.length) throw new HpackError("truncated string");
  const huffman = (r.buf[r.pos] & 0x80) !== 0;
  const len = readInt(r, 7);
  if (r.pos + len > r.buf.length) throw new HpackError("string longer than the block");
  const raw = r.buf.subarray(r.pos, r.pos + len);
  r.pos += len;
  try {
    return latin1.decode(huffman ? huffmanDecode(raw) : raw);
  } catch (err) {
    throw new HpackError((err as Error).message);
  }
}

/** Static-table lookups for the encoder. */
const staticExact = new Map(STATIC_TABLE.map((f, i) => [`${f[0]}\0${f[1]}`, i + 1] as const));
const staticName = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => staticName.has(name) || staticName.set(name, i + 1));

/** Encodes header blocks without touching the peer's dynamic table (see the module note). */
export function hpackEncode(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const exact = staticExact.get(`${name}\0${value}`);
    if (exact) {
      writeInt(out, 7, 0x80, exact);
      continue;
    }
    const nameIndex = staticName.get(name) ?? 0;
    writeInt(out, 4, 0x00, nameIndex);
    if (nameIndex === 0) writeString(out, name);
    writeString(out, value);
  }
  return new Uint8Array(out);
}

function writeInt(out: number[], prefix: number, flags: number, v: number): void {
  const max = (1 << prefix) - 1;
  if (v < max) {
    out.push(flags | v);
    return;
  }
  out.push(flags | max);
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function writeString(out: number[], s: string): void {
  const raw = Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  if (huffmanLength(raw) < raw.length) {
    const coded = huffmanEncode(raw);
    writeInt(out, 7, 0x80, coded.length);
    for (const b of coded) out.push(b);
  } else {
    writeInt(out, 7, 0x00, raw.length);
    for (const b of raw) out.push(b);
  }
}
