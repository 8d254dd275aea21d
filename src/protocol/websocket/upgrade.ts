/**
 * Both ends of the WebSocket opening handshake over any duplex, returning the duplex that
 * carries the stream in binary messages. Deadlines are the caller's (listener or dialer).
 * @module
 */
import { BufferedReader } from "../../core/buffered_reader.ts";
import { directIO } from "../../core/direct_io.ts";
import { type Duplex, writeTo } from "../../core/duplex.ts";
import { webSocketDuplex } from "./conn.ts";
import {
  checkRequest,
  checkResponse,
  errorResponse,
  MAX_HEAD,
  newKey,
  parseHead,
  switchingProtocols,
  UpgradeError,
  upgradeRequest,
} from "./handshake.ts";

const CRLFCRLF = new TextEncoder().encode("\r\n\r\n");
const encoder = new TextEncoder();

/** Server side: what to accept and what to add to the answer. */
export interface AcceptOptions {
  /** The path served; other paths get 404. */
  path: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/**
 * Reads and checks the upgrade request on `conn` and answers it. A bad request gets its
 * HTTP error answer (404 for another path, 400 for a malformed upgrade) and throws
 * {@link UpgradeError}; the caller closes the connection.
 */
export async function acceptWebSocket(conn: Duplex, opts: AcceptOptions): Promise<Duplex> {
  const reader = new BufferedReader(conn);
  const head = await reader.readUntil(CRLFCRLF, MAX_HEAD, "websocket upgrade request");
  let key: string;
  try {
    key = checkRequest(parseHead(head), { path: opts.path });
  } catch (err) {
    if (err instanceof UpgradeError) {
      await writeTo(reader.release(), encoder.encode(errorResponse(err.status))).catch(() => {});
    }
    throw err;
  }
  const rest = reader.release();
  await writeTo(rest, encoder.encode(await switchingProtocols(key, opts.headers)));
  return webSocketDuplex(rest, directIO(rest), { client: false });
}

/** Client side: the request to send. */
export interface ConnectOptions {
  /** Host header. */
  host: string;
  path: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Ping interval (ms); 0: no pings. */
  pingInterval?: number;
}

/** Sends the upgrade request over `conn` and checks the answer; throws {@link UpgradeError}. */
export async function connectWebSocket(conn: Duplex, opts: ConnectOptions): Promise<Duplex> {
  const key = newKey();
  await writeTo(conn, encoder.encode(upgradeRequest({ ...opts, key })));
  const reader = new BufferedReader(conn);
  const head = await reader.readUntil(CRLFCRLF, MAX_HEAD, "websocket upgrade response");
  await checkResponse(parseHead(head), key);
  const rest = reader.release();
  return webSocketDuplex(rest, directIO(rest), { client: true, pingInterval: opts.pingInterval });
}
