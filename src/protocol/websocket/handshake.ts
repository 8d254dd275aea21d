/**
 * The HTTP/1.1 upgrade that opens a WebSocket (RFC 6455 section 4): request and response
 * heads as text, the accept-key digest, and validation with reasons a log line can carry.
 * @module
 */

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The largest request or response head accepted (request line plus headers). */
export const MAX_HEAD = 16 * 1024;

/** A parsed HTTP head: first line split in three, headers with lower-cased names. */
export interface HttpHead {
  /** Request: method, target, version. Response: version, status code, reason. */
  line: [string, string, string];
  headers: Map<string, string>;
}

/** A malformed or refused upgrade; `status` is the HTTP status the server answers with. */
export class UpgradeError extends Error {
  constructor(message: string, readonly status = 400) {
    super(`websocket upgrade: ${message}`);
    this.name = "UpgradeError";
  }
}

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** A fresh random `Sec-WebSocket-Key` (16 random bytes, base64). */
export function newKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/** Parses a head ending in CRLF CRLF (the bytes up to and including it). */
export function parseHead(bytes: Uint8Array): HttpHead {
  // latin1 keeps every byte; header values are ASCII in practice.
  const text = new TextDecoder("latin1").decode(bytes);
  const lines = text.split("\r\n");
  const first = lines[0];
  const a = first.indexOf(" ");
  const b = a < 0 ? -1 : first.indexOf(" ", a + 1);
  if (a <= 0) throw new UpgradeError(`malformed first line ${JSON.stringify(first.slice(0, 80))}`);
  const line: [string, string, string] = b < 0
    ? [first.slice(0, a), first.slice(a + 1), ""]
    : [first.slice(0, a), first.slice(a + 1, b), first.slice(b + 1)];
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    if (l === "") continue;
    const i = l.indexOf(":");
    if (i <= 0) throw new UpgradeError(`malformed header line ${JSON.stringify(l.slice(0, 80))}`);
    const name = l.slice(0, i).trim().toLowerCase();
    const value = l.slice(i + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { line, headers };
}

function hasToken(value: string | undefined, token: string): boolean {
  return !!value && value.toLowerCase().split(",").some((t) => t.trim() === token);
}

/** What the server side checks a request against. */
export interface ServerCheck {
  /** The one path served (query strings ignored), e.g. "/ws". */
  path: string;
}

/**
 * Validates an upgrade request; returns the client's key. Throws {@link UpgradeError} whose
 * `status` is the answer: 404 for another path, 405 for another method, 400 otherwise.
 */
export function checkRequest(head: HttpHead, check: ServerCheck): string {
  const [method, target, version] = head.line;
  if (!/^HTTP\/1\.[01]$/.test(version)) {
    throw new UpgradeError(`not an HTTP/1.1 request (${version || "no version"})`);
  }
  const path = target.split("?")[0];
  if (path !== check.path) throw new UpgradeError(`path ${JSON.stringify(path)} not found`, 404);
  if (method !== "GET") throw new UpgradeError(`method ${method} not allowed`, 405);
  if (!hasToken(head.headers.get("connection"), "upgrade")) {
    throw new UpgradeError(`"Connection: upgrade" header missing`);
  }
  if (!hasToken(head.headers.get("upgrade"), "websocket")) {
    throw new UpgradeError(`"Upgrade: websocket" header missing`);
  }
  if (head.headers.get("sec-websocket-version") !== "13") {
    throw new UpgradeError(`unsupported Sec-WebSocket-Version (want 13)`);
  }
  const key = head.headers.get("sec-websocket-key");
  if (!key) throw new UpgradeError(`Sec-WebSocket-Key header missing`);
  let raw: string;
  try {
    raw = atob(key);
  } catch {
    raw = "";
  }
  if (raw.length !== 16) throw new UpgradeError(`Sec-WebSocket-Key is not 16 bytes in base64`);
  return key;
}

function headerLines(extra: Record<string, string>): string {
  return Object.entries(extra).map(([k, v]) => `${k}: ${v}\r\n`).join("");
}

/** The 101 answer to a valid request, with extra response headers. */
export async function switchingProtocols(key: string, extra: Record<string, string> = {}): Promise<string> {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n${headerLines(extra)}\r\n`;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
};

/** A short error answer that closes the connection. */
export function errorResponse(status: number): string {
  const reason = REASONS[status] ?? "Error";
  const body = `${status} ${reason.toLowerCase()}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Connection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** What a client sends: path, Host, and extra headers (which may override the defaults). */
export interface ClientRequest {
  host: string;
  path: string;
  key: string;
  headers?: Record<string, string>;
}

/** The client's upgrade request. */
export function upgradeRequest(req: ClientRequest): string {
  const base: Record<string, string> = {
    "Host": req.host,
    "User-Agent": "Go-http-client/1.1",
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": req.key,
    "Sec-WebSocket-Version": "13",
  };
  const lower = new Set(Object.keys(req.headers ?? {}).map((k) => k.toLowerCase()));
  for (const k of ["Host", "User-Agent"]) if (lower.has(k.toLowerCase())) delete base[k];
  const path = req.path.startsWith("/") ? req.path : `/${req.path}`;
  return `GET ${path} HTTP/1.1\r\n${headerLines(base)}${headerLines(req.headers ?? {})}\r\n`;
}

/** Validates the server's answer to {@link upgradeRequest}. */
export async function checkResponse(head: HttpHead, key: string): Promise<void> {
  const [version, status] = head.line;
  if (!version.startsWith("HTTP/1.")) {
    throw new UpgradeError(`not an HTTP response (${version.slice(0, 20)})`);
  }
  if (status !== "101") {
    throw new UpgradeError(`server answered ${status} ${head.line[2]}`.trim(), Number(status) || 502);
  }
  if (!hasToken(head.headers.get("upgrade"), "websocket")) {
    throw new UpgradeError(`response lacks Upgrade: websocket`);
  }
  if (head.headers.get("sec-websocket-accept") !== await acceptKey(key)) {
    throw new UpgradeError(`wrong Sec-WebSocket-Accept`);
  }
}
