/**
 * HTTP/1.x message heads for proxying: parsing request and response heads (header order and
 * case kept), building them back, body framing, and GOST's CONNECT request.
 * @module
 */
import { indexOf } from "../../core/buffered_reader.ts";
import { type BufferedReader, TooLong } from "../../core/buffered_reader.ts";

/** Headers in order, names as sent. */
export type Headers = [string, string][];

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: Headers;
}

/** A parsed response head. */
export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: Headers;
}

/** A malformed message; `status` is the response a server should give. */
export class HttpError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = "HttpError";
  }
}

/** The largest head accepted (request line or status line plus headers). */
export const MAX_HEAD = 64 * 1024;

const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);
const CRLF = new Uint8Array([13, 10]);
const decoder = new TextDecoder("latin1");
const encoder = new TextEncoder();
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses one header line (not empty); throws {@link HttpError} when it is malformed. */
export function parseHeaderLine(line: string): [string, string] {
  if (line[0] === " " || line[0] === "\t") throw new HttpError("obsolete header line folding");
  const i = line.indexOf(":");
  if (i <= 0) throw new HttpError(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
  const name = line.slice(0, i);
  if (!TOKEN.test(name)) throw new HttpError(`bad header name ${JSON.stringify(name.slice(0, 40))}`);
  return [name, line.slice(i + 1).trim()];
}

function parseHeaders(lines: string[]): Headers {
  const out: Headers = [];
  for (const line of lines) {
    if (line !== "") out.push(parseHeaderLine(line));
  }
  return out;
}

function splitHead(bytes: Uint8Array): string[] {
  const end = indexOf(bytes, CRLFCRLF);
  const text = decoder.decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  return text.split("\r\n");
}

/** Parses a request line; throws {@link HttpError} (400, or 505 for another protocol). */
export function parseRequestLine(line: string): { method: string; target: string; version: string } {
  const parts = line.split(" ");
  if (parts.length !== 3) {
    throw new HttpError(`malformed request line ${JSON.stringify(line.slice(0, 80))}`);
  }
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) throw new HttpError(`bad method ${JSON.stringify(method.slice(0, 20))}`);
  if (!/^HTTP\/1\.[01]$/.test(version)) {
    throw new HttpError(`unsupported protocol ${JSON.stringify(version.slice(0, 20))}`, 505);
  }
  if (!target) throw new HttpError("empty request target");
  return { method, target, version };
}

/** Parses a request head (bytes up to and including the blank line). */
export function parseRequestHead(bytes: Uint8Array): RequestHead {
  const lines = splitHead(bytes);
  return { ...parseRequestLine(lines[0]), headers: parseHeaders(lines.slice(1)) };
}

/** Parses a response head. */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  const lines = splitHead(bytes);
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new HttpError(`malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`, 502);
  return { version: m[1], status: Number(m[2]), reason: m[3] ?? "", headers: parseHeaders(lines.slice(1)) };
}

/**
 * Reads a head (up to the blank line) from `r`; null at a clean end before any byte.
 * `check` sees the bytes so far whenever more are awaited, and may throw to give up early.
 */
export async function readHead(
  r: BufferedReader,
  what = "http head",
  check?: (soFar: Uint8Array) => void,
): Promise<Uint8Array | null> {
  if (!(await r.want(1))) return null;
  const head = await r.readUntil(CRLFCRLF, MAX_HEAD, what, check);
  // readUntil may return more than its bound when the whole head arrived in one read.
  if (head.length > MAX_HEAD) throw new TooLong(what, MAX_HEAD);
  return head;
}

/** The first value of a header (case-insensitive name). */
export function getHeader(h: Headers, name: string): string | undefined {
  const n = name.toLowerCase();
  return h.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** True when a comma-separated header (Connection, …) holds `token`. */
export function headerHas(h: Headers, name: string, token: string): boolean {
  const n = name.toLowerCase();
  const t = token.toLowerCase();
  return h.some(([k, v]) => k.toLowerCase() === n && v.toLowerCase().split(",").some((x) => x.trim() === t));
}

/** Headers without the named ones. */
export function withoutHeaders(h: Headers, ...names: string[]): Headers {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return h.filter(([k]) => !drop.has(k.toLowerCase()));
}

/** Serializes a head from its first line and headers. */
export function encodeHead(firstLine: string, headers: Headers): Uint8Array {
  let s = firstLine + "\r\n";
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return encoder.encode(s + "\r\n");
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** A complete response with no body (`Content-Length: 0` unless a 200 to CONNECT). */
export function encodeSimpleResponse(
  status: number,
  headers: Headers = [],
  version = "HTTP/1.1",
): Uint8Array {
  return encodeHead(`${version} ${status} ${REASONS[status] ?? ""}`.trimEnd(), headers);
}

/** How a message body is delimited. */
export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | {
  kind: "close";
};

/** Body framing of a request (RFC 9112 section 6). */
export function requestBody(h: Headers): BodyFraming {
  if (getHeader(h, "transfer-encoding")) {
    if (!headerHas(h, "transfer-encoding", "chunked")) {
      throw new HttpError("unsupported transfer-encoding", 501);
    }
    return { kind: "chunked" };
  }
  const cl = getHeader(h, "content-length");
  if (cl === undefined) return { kind: "none" };
  if (!/^\d{1,15}$/.test(cl)) throw new HttpError(`bad content-length ${JSON.stringify(cl.slice(0, 20))}`);
  return Number(cl) > 0 ? { kind: "length", length: Number(cl) } : { kind: "none" };
}

/** Body framing of a response to `method`. */
export function responseBody(method: string, status: number, h: Headers): BodyFraming {
  if (method === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { kind: "none" };
  }
  if (getHeader(h, "transfer-encoding")) {
    return headerHas(h, "transfer-encoding", "chunked") ? { kind: "chunked" } : { kind: "close" };
  }
  const cl = getHeader(h, "content-length");
  if (cl === undefined) return { kind: "close" };
  if (!/^\d{1,15}$/.test(cl)) throw new HttpError(`bad content-length from upstream`, 502);
  return Number(cl) > 0 ? { kind: "length", length: Number(cl) } : { kind: "none" };
}

/** Copies `n` bytes from `r` to `write`; returns `n`. */
export async function copyBytes(
  r: BufferedReader,
  n: number,
  write: (b: Uint8Array) => Promise<void>,
): Promise<number> {
  let left = n;
  while (left > 0) {
    if (r.buffered === 0 && !(await r.fill())) throw new HttpError("connection closed inside a body");
    const take = Math.min(r.buffered, left);
    await write(await r.readExact(take));
    left -= take;
  }
  return n;
}

/** Copies a chunked body verbatim (sizes, extensions, trailers); returns bytes copied. */
export async function copyChunked(
  r: BufferedReader,
  write: (b: Uint8Array) => Promise<void>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const line = await r.readUntil(CRLF, 4096, "chunk size");
    await write(line);
    total += line.length;
    const m = /^([0-9a-fA-F]{1,15})(;[^\r]*)?\r\n$/.exec(decoder.decode(line));
    if (!m) throw new HttpError("bad chunk size line");
    const size = parseInt(m[1], 16);
    if (size === 0) {
      for (;;) {
        const t = await r.readUntil(CRLF, 8192, "chunk trailer");
        await write(t);
        total += t.length;
        if (t.length === 2) return total;
      }
    }
    total += await copyBytes(r, size + 2, write);
  }
}

/** Copies until the end of stream; returns bytes copied. */
export async function copyToEnd(r: BufferedReader, write: (b: Uint8Array) => Promise<void>): Promise<number> {
  let total = 0;
  for (;;) {
    if (r.buffered === 0 && !(await r.fill())) return total;
    const b = r.takeBuffered();
    total += b.length;
    await write(b);
  }
}

/** GOST's CONNECT request, byte for byte as gost 3 sends it. */
export function encodeConnect(
  addr: string,
  opts: { authorization?: string; udp?: boolean; headers?: Record<string, string> } = {},
): Uint8Array {
  const h: Headers = [["Host", addr], ["User-Agent", "Go-http-client/1.1"]];
  for (const [k, v] of Object.entries(opts.headers ?? {})) h.push([k, v]);
  if (opts.authorization) h.push(["Proxy-Authorization", opts.authorization]);
  h.push(["Proxy-Connection", "keep-alive"]);
  if (opts.udp) h.push(["X-Gost-Protocol", "udp"]);
  return encodeHead(`CONNECT ${addr} HTTP/1.1`, h);
}
