/**
 * gost's pht ("plain HTTP tunnel") on the wire, as real gost 3.2.6 speaks it: HTTP/1.1 requests
 * with Go's client headers, the server's answers as Go's net/http writes them, and the payload
 * framing (one base64 line per write or read). Pure functions; the client and server are in
 * client.ts and server.ts.
 *
 * - `GET <authorizePath>` (any method) -> 200 `token=<20-char xid>` (text/plain).
 * - `GET <pullPath>?token=T` -> 200 chunked; each server read (<= 32 KiB) is one chunk
 *   `base64(data)\n`; after 10 s without data a `\n` chunk ends the response and the client
 *   asks again; a response without any line means the tunnel ended.
 * - `POST <pushPath>?token=T` with `base64(write)\n` -> 200 (Content-Length 0). A body without
 *   a `\n` (an empty one included) closes the tunnel. A body of just `\n` is ignored by gost's
 *   server; ours takes it as the end of the client's data (a half-close).
 * - Unknown path 404 (Go's ServeMux text), wrong method 400, unknown token 403, backlog full 429.
 * @module
 */
import { encodeHead, type Headers } from "../http/http.ts";

/** gost's default paths. */
export const PHT_PATHS = { authorize: "/authorize", push: "/push", pull: "/pull" } as const;

/** The paths of one tunnel: a configured value not starting with '/' means the default. */
export interface PhtPaths {
  authorize: string;
  push: string;
  pull: string;
}

/** gost's rule: a path must start with '/', else the default is used. */
export function phtPaths(authorize: string, push: string, pull: string): PhtPaths {
  const pick = (v: string, def: string) => (v.startsWith("/") ? v : def);
  return {
    authorize: pick(authorize, PHT_PATHS.authorize),
    push: pick(push, PHT_PATHS.push),
    pull: pick(pull, PHT_PATHS.pull),
  };
}

/** Bytes one pull chunk carries at most (gost's read buffer). */
export const PULL_READ_SIZE = 32 * 1024;
/** How long a pull waits for data before it ends with an empty line (gost's readTimeout). */
export const PULL_TIMEOUT = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The HTTP `Date` value as Go writes it (`Wed, 02 Dec 2026 02:11:15 GMT`). */
export function httpDate(now = new Date()): string {
  return now.toUTCString();
}

// ---- client requests (Go's http.Client: Host, User-Agent, Content-Length, headers, Accept-Encoding)

/** A request head as gost's client writes it; `header` holds the `header` option's fields. */
export function phtRequest(
  method: "GET" | "POST",
  target: string,
  host: string,
  opts: { contentLength?: number; header?: Record<string, string> } = {},
): Uint8Array {
  const h: Headers = [["Host", host], ["User-Agent", "Go-http-client/1.1"]];
  if (opts.contentLength !== undefined) h.push(["Content-Length", String(opts.contentLength)]);
  // Go's Header.Write orders the remaining fields by name.
  for (const k of Object.keys(opts.header ?? {}).sort()) h.push([k, opts.header![k]]);
  h.push(["Accept-Encoding", "gzip"]);
  return encodeHead(`${method} ${target} HTTP/1.1`, h);
}

/** `path?token=T`. */
export function withToken(path: string, token: string): string {
  return `${path}?token=${token}`;
}

/** A push body: one line of base64. */
export function pushBody(data: Uint8Array): Uint8Array {
  return encoder.encode(data.toBase64() + "\n");
}

/** The body of the push that ends the client's data (understood by our server, ignored by gost's). */
export const HALF_CLOSE_BODY: Uint8Array = new Uint8Array([0x0a]);

/** The token in an authorize response body, or null. */
export function parseAuthorizeBody(body: Uint8Array): string | null {
  const s = decoder.decode(body);
  return s.startsWith("token=") && s.length > 6 ? s.slice(6) : null;
}

// ---- server answers (Go's net/http ResponseWriter)

/** 200 with the token, as gost's authorize handler answers. */
export function authorizeResponse(token: string, date = httpDate()): Uint8Array {
  const body = `token=${token}`;
  return encoder.encode(
    `HTTP/1.1 200 OK\r\nDate: ${date}\r\nContent-Length: ${body.length}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  );
}

const REASONS: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  400: "Bad Request",
  403: "Forbidden",
  410: "Gone",
  413: "Request Entity Too Large",
  429: "Too Many Requests",
};

/** A response without a body (Go: a handler that only set the status, or wrote nothing). */
export function emptyResponse(status: number, date = httpDate(), close = false): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nDate: ${date}\r\nContent-Length: 0\r\n` +
      `${close ? "Connection: close\r\n" : ""}\r\n`,
  );
}

/** Go's ServeMux answer to an unknown path. */
export function notFoundResponse(date = httpDate()): Uint8Array {
  return encoder.encode(
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n" +
      `Date: ${date}\r\nContent-Length: 19\r\n\r\n404 page not found\n`,
  );
}

/** The head of a pull response (the body follows chunked). */
export function pullResponseHead(date = httpDate()): Uint8Array {
  return encoder.encode(`HTTP/1.1 200 OK\r\nDate: ${date}\r\nTransfer-Encoding: chunked\r\n\r\n`);
}

/** One pull chunk: `base64(data)\n` as an HTTP chunk. */
export function pullChunk(data: Uint8Array): Uint8Array {
  const line = data.toBase64() + "\n";
  return encoder.encode(`${line.length.toString(16)}\r\n${line}\r\n`);
}

/** The chunk a pull sends after 10 s without data. */
export const EMPTY_LINE_CHUNK: Uint8Array = encoder.encode("1\r\n\n\r\n");
/** The last chunk: ends a pull response. */
export const LAST_CHUNK: Uint8Array = encoder.encode("0\r\n\r\n");

/** Splits a request target into its path and `token` parameter. */
export function parseTarget(target: string): { path: string; token: string } {
  const q = target.indexOf("?");
  if (q < 0) return { path: target, token: "" };
  return { path: target.slice(0, q), token: new URLSearchParams(target.slice(q + 1)).get("token") ?? "" };
}

/**
 * What a push body asks for: data (one decoded line), the end of the client's data (a lone
 * `\n`), closing the tunnel (no `\n` at all), or a bad line (the tunnel is closed with 400).
 */
export type PushAction =
  | { kind: "data"; data: Uint8Array }
  | { kind: "halfClose" }
  | { kind: "close" }
  | { kind: "bad" };

/** Reads a push body as gost's server does: only its first line counts. */
export function parsePushBody(body: Uint8Array): PushAction {
  const nl = body.indexOf(0x0a);
  if (nl < 0) return { kind: "close" };
  if (nl === 0) return { kind: "halfClose" };
  try {
    return { kind: "data", data: Uint8Array.fromBase64(decoder.decode(body.subarray(0, nl))) };
  } catch {
    return { kind: "bad" };
  }
}
