/**
 * DNS messages (RFC 1035), as a pure codec: queries the resolver sends, answers it reads.
 *
 * Answers come from the network and may be hostile, so decoding is bounded: every read is
 * checked against the message length, a compression pointer must point before the name
 * that uses it (which rules out loops), names are at most 255 bytes, and section counts
 * that cannot fit in the remaining bytes are refused before anything is allocated.
 * @module
 */
import { formatIPv6 } from "../../core/addr.ts";
import { concat } from "../../core/bytes.ts";

/** Record types the resolver uses. */
export const RRType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, OPT: 41 } as const;

/** Response codes (RFC 1035 4.1.1, RFC 6895). */
export const RCode = { NoError: 0, FormErr: 1, ServFail: 2, NXDomain: 3, NotImp: 4, Refused: 5 } as const;

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/** The name of a response code ("NXDOMAIN"), or its number. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Class IN. */
export const CLASS_IN = 1;

/** Header flag bits. */
const QR = 0x8000, TC = 0x0200, RD = 0x0100;

/** Longest encoded name (RFC 1035 2.3.4). */
const MAX_NAME = 255;
/** Smallest question (root name, type, class) and resource record (root name, fixed fields). */
const MIN_QUESTION = 5, MIN_RR = 11;

/** A malformed DNS message. */
export class DnsFormatError extends Error {
  constructor(message: string) {
    super(`dns: ${message}`);
    this.name = "DnsFormatError";
  }
}

export interface Question {
  /** Lower-case, without the trailing dot ("" is the root). */
  name: string;
  type: number;
  class: number;
}

export interface ResourceRecord extends Question {
  ttl: number;
  /** The record data, a view into the decoded message. */
  data: Uint8Array;
}

export interface Message {
  id: number;
  /** The whole flags word (QR, opcode, AA, TC, RD, RA, rcode). */
  flags: number;
  response: boolean;
  truncated: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

/** EDNS client subnet (RFC 7871) carried in a query. */
export interface ClientSubnet {
  /** 1 = IPv4, 2 = IPv6. */
  family: 1 | 2;
  /** Significant bits of `address`. */
  sourcePrefix: number;
  /** 4 or 16 bytes. */
  address: Uint8Array;
}

export interface Query {
  id: number;
  name: string;
  type: number;
  /** Adds an OPT record with this client subnet. */
  clientSubnet?: ClientSubnet;
}

/** UDP payload size announced in the OPT record. */
export const EDNS_UDP_SIZE = 1232;

/** Encodes a name as labels; throws for an empty label, a label over 63 bytes or a name over 255. */
export function encodeName(name: string): Uint8Array {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const labels = trimmed === "" ? [] : trimmed.split(".");
  const out: number[] = [];
  for (const label of labels) {
    if (label.length === 0) throw new DnsFormatError(`empty label in "${name}"`);
    if (label.length > 63) throw new DnsFormatError(`label longer than 63 bytes in "${name}"`);
    out.push(label.length);
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c > 0x7f) throw new DnsFormatError(`non-ASCII name "${name}" (use its xn-- form)`);
      out.push(c);
    }
  }
  out.push(0);
  if (out.length > MAX_NAME) throw new DnsFormatError(`name longer than 255 bytes: "${name}"`);
  return Uint8Array.from(out);
}

/** The OPT pseudo-record carrying a client subnet option. */
function encodeOpt(cs: ClientSubnet): Uint8Array {
  const n = Math.ceil(cs.sourcePrefix / 8);
  const addr = cs.address.slice(0, n);
  // Bits past the prefix must be zero (RFC 7871 6).
  if (n > 0 && cs.sourcePrefix % 8) addr[n - 1] &= 0xff << (8 - (cs.sourcePrefix % 8));
  const optLen = 4 + n;
  const b = new Uint8Array(11 + 4 + optLen);
  const v = new DataView(b.buffer);
  // name = root (b[0] = 0), type OPT, class = UDP size, ttl = 0 (extended rcode, version, flags)
  v.setUint16(1, RRType.OPT);
  v.setUint16(3, EDNS_UDP_SIZE);
  v.setUint16(9, 4 + optLen);
  v.setUint16(11, 8); // option code: client subnet
  v.setUint16(13, optLen);
  v.setUint16(15, cs.family);
  b[17] = cs.sourcePrefix;
  b[18] = 0; // scope prefix
  b.set(addr, 19);
  return b;
}

/** Encodes a recursive query for one name and type (and an OPT record for a client subnet). */
export function encodeQuery(q: Query): Uint8Array {
  const name = encodeName(q.name);
  const opt = q.clientSubnet ? encodeOpt(q.clientSubnet) : undefined;
  const b = new Uint8Array(12 + name.length + 4 + (opt?.length ?? 0));
  const v = new DataView(b.buffer);
  v.setUint16(0, q.id);
  v.setUint16(2, RD);
  v.setUint16(4, 1);
  v.setUint16(10, opt ? 1 : 0);
  b.set(name, 12);
  v.setUint16(12 + name.length, q.type);
  v.setUint16(14 + name.length, CLASS_IN);
  if (opt) b.set(opt, 16 + name.length);
  return b;
}

/** Appends one label's text, lower-cased, escaping dots and bytes that are not printable. */
function labelText(b: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let i = start; i < start + len; i++) {
    let c = b[i];
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c === 0x2e || c === 0x5c) s += "\\" + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += "\\" + String(c).padStart(3, "0");
  }
  return s;
}

/**
 * Reads the name at `off`; returns it and the offset after it (after the first pointer when
 * compressed). A pointer must point before the start of the labels it follows, so each jump
 * lands strictly earlier than the last and the walk ends.
 */
export function decodeName(b: Uint8Array, off: number): [string, number] {
  const labels: string[] = [];
  let pos = off;
  let runStart = off;
  let end = -1;
  let encoded = 1;
  for (;;) {
    if (pos >= b.length) throw new DnsFormatError("name runs past the end of the message");
    const len = b[pos];
    if (len === 0) {
      pos++;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= b.length) throw new DnsFormatError("truncated compression pointer");
      const target = ((len & 0x3f) << 8) | b[pos + 1];
      if (target >= runStart) throw new DnsFormatError("compression pointer does not point backwards");
      if (end < 0) end = pos + 2;
      pos = runStart = target;
      continue;
    }
    if (kind !== 0) throw new DnsFormatError(`unsupported label type 0x${kind.toString(16)}`);
    encoded += len + 1;
    if (encoded > MAX_NAME) throw new DnsFormatError("name longer than 255 bytes");
    if (pos + 1 + len > b.length) throw new DnsFormatError("label runs past the end of the message");
    labels.push(labelText(b, pos + 1, len));
    pos += 1 + len;
  }
  return [labels.join("."), end < 0 ? pos : end];
}

function need(b: Uint8Array, off: number, n: number, what: string): void {
  if (off + n > b.length) throw new DnsFormatError(`truncated ${what}`);
}

function decodeRecords(
  b: Uint8Array,
  v: DataView,
  off: number,
  count: number,
  out: ResourceRecord[],
): number {
  for (let i = 0; i < count; i++) {
    const [name, p] = decodeName(b, off);
    need(b, p, 10, "resource record");
    const rdlen = v.getUint16(p + 8);
    need(b, p + 10, rdlen, "record data");
    out.push({
      name,
      type: v.getUint16(p),
      class: v.getUint16(p + 2),
      ttl: v.getUint32(p + 4),
      data: b.subarray(p + 10, p + 10 + rdlen),
    });
    off = p + 10 + rdlen;
  }
  return off;
}

/** Decodes a whole message; throws {@link DnsFormatError} for anything malformed. */
export function decodeMessage(b: Uint8Array): Message {
  if (b.length < 12) throw new DnsFormatError(`message of ${b.length} bytes is shorter than its header`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = v.getUint16(2);
  const [qd, an, ns, ar] = [v.getUint16(4), v.getUint16(6), v.getUint16(8), v.getUint16(10)];
  if (qd * MIN_QUESTION + (an + ns + ar) * MIN_RR > b.length - 12) {
    throw new DnsFormatError(`section counts (${qd}/${an}/${ns}/${ar}) exceed the ${b.length}-byte message`);
  }
  const questions: Question[] = [];
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const [name, p] = decodeName(b, off);
    need(b, p, 4, "question");
    questions.push({ name, type: v.getUint16(p), class: v.getUint16(p + 2) });
    off = p + 4;
  }
  const answers: ResourceRecord[] = [],
    authorities: ResourceRecord[] = [],
    additionals: ResourceRecord[] = [];
  off = decodeRecords(b, v, off, an, answers);
  off = decodeRecords(b, v, off, ns, authorities);
  decodeRecords(b, v, off, ar, additionals);
  return {
    id: v.getUint16(0),
    flags,
    response: (flags & QR) !== 0,
    truncated: (flags & TC) !== 0,
    rcode: flags & 0x0f,
    questions,
    answers,
    authorities,
    additionals,
  };
}

/** The addresses of the A and AAAA records among `records` (malformed lengths skipped). */
export function addressesOf(records: ResourceRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.class !== CLASS_IN) continue;
    if (r.type === RRType.A && r.data.length === 4) out.push(r.data.join("."));
    else if (r.type === RRType.AAAA && r.data.length === 16) out.push(formatIPv6(r.data));
  }
  return out;
}

/** One record of a response being built. */
export interface AnswerRecord {
  name: string;
  type: number;
  ttl: number;
  data: Uint8Array;
}

/**
 * Encodes a response to `query` (its id, RD and first question echoed; RA set) with
 * `answers` and `rcode`. Names are not compressed.
 */
export function encodeResponse(
  query: Message,
  answers: AnswerRecord[],
  rcode: number = RCode.NoError,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const q = query.questions[0];
  const header = new Uint8Array(12);
  const hv = new DataView(header.buffer);
  hv.setUint16(0, query.id);
  hv.setUint16(2, QR | (query.flags & RD) | 0x0080 | (rcode & 0x0f));
  hv.setUint16(4, q ? 1 : 0);
  hv.setUint16(6, answers.length);
  parts.push(header);
  if (q) {
    const fixed = new Uint8Array(4);
    new DataView(fixed.buffer).setUint16(0, q.type);
    new DataView(fixed.buffer).setUint16(2, q.class);
    parts.push(encodeName(q.name), fixed);
  }
  for (const a of answers) {
    const fixed = new Uint8Array(10);
    const v = new DataView(fixed.buffer);
    v.setUint16(0, a.type);
    v.setUint16(2, CLASS_IN);
    v.setUint32(4, a.ttl);
    v.setUint16(8, a.data.length);
    parts.push(encodeName(a.name), fixed, a.data);
  }
  return concat(parts);
}
