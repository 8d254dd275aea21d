/**
 * The few DER (ASN.1) encoders a self-signed X.509 certificate needs. Encoding only: we
 * never parse certificates ourselves, the TLS stacks do.
 * @module
 */
import { concat } from "../bytes.ts";

/** Tag bytes used by {@link selfSignedCert}. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A DER element: tag, definite length, content. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(content);
  const n = body.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = [0x80 | bytes.length, ...bytes];
  }
  return concat([Uint8Array.of(tag, ...len), body]);
}

/** A SEQUENCE of already-encoded elements. */
export const seq = (...items: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(TAG.SEQUENCE, ...items);

/** A context-specific constructed tag `[n]` (EXPLICIT wrapping). */
export const explicit = (n: number, ...items: Uint8Array[]): Uint8Array<ArrayBuffer> =>
  tlv(0xa0 | n, ...items);

/** An unsigned big-endian integer given as bytes; adds the sign byte DER needs. */
export function uint(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return tlv(TAG.INTEGER, v[0] & 0x80 ? concat([Uint8Array.of(0), v]) : v);
}

/** An OBJECT IDENTIFIER from dotted text ("1.2.840.10045.4.3.2"). */
export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const bytes: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

const text = new TextEncoder();

/** A UTF8String. */
export const utf8 = (s: string): Uint8Array<ArrayBuffer> => tlv(TAG.UTF8_STRING, text.encode(s));

/** A BIT STRING with no unused bits. */
export const bits = (b: Uint8Array): Uint8Array<ArrayBuffer> => tlv(TAG.BIT_STRING, Uint8Array.of(0), b);

/** X.509 time: UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Uint8Array<ArrayBuffer> {
  const p = (n: number) => String(n).padStart(2, "0");
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${
    p(d.getUTCSeconds())
  }Z`;
  if (y < 2050) return tlv(TAG.UTC_TIME, text.encode(`${p(y % 100)}${rest}`));
  return tlv(TAG.GENERALIZED_TIME, text.encode(`${y}${rest}`));
}

/** PEM armour for DER bytes. */
export function pem(label: string, der: Uint8Array): string {
  let b64 = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < der.length; i += CHUNK) {
    b64 += String.fromCharCode(...der.subarray(i, i + CHUNK));
  }
  const lines = btoa(b64).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
