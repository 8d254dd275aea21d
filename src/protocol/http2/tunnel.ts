/**
 * gost's HTTP/2 tunnel (x/listener/http2/h2, x/dialer/http2/h2, as captured from gost 3.2.6): one
 * stream per tunnelled connection on a shared connection. The client asks with CONNECT (the
 * authority is the `host` option or the node's address with its port) or, with a `path`, with
 * GET on that path; the server answers 200 (with a date) before any data, 405 to a non-CONNECT
 * request when it has no path, 400 to another path. SETTINGS are those of Go's x/net/http2 for
 * each side, so a gost-deno node is told apart from gost by nothing on the wire.
 * @module
 */
import type { Duplex } from "../../core/duplex.ts";
import type { Logger } from "../../core/log.ts";
import { deadline } from "../../core/timeout.ts";
import { ErrorCode, Setting } from "./frame.ts";
import type { HeaderField } from "./hpack.ts";
import { Http2Session } from "./session.ts";
import type { Http2Stream } from "./stream.ts";

/** Go's client: no push, 4 MiB stream windows, 1 GiB more for the connection. */
export const CLIENT_SETTINGS: [number, number][] = [
  [Setting.ENABLE_PUSH, 0],
  [Setting.INITIAL_WINDOW_SIZE, 4194304],
  [Setting.MAX_FRAME_SIZE, 16384],
  [Setting.MAX_HEADER_LIST_SIZE, 10485760],
];
export const CLIENT_CONNECTION_WINDOW = 1073741824;

/** Go's server: 1 MiB frames and stream windows, 250 concurrent streams, 1 MiB connection window. */
export const SERVER_SETTINGS: [number, number][] = [
  [Setting.MAX_FRAME_SIZE, 1048576],
  [Setting.MAX_CONCURRENT_STREAMS, 250],
  [Setting.MAX_HEADER_LIST_SIZE, 1048896],
  [Setting.HEADER_TABLE_SIZE, 4096],
  [Setting.INITIAL_WINDOW_SIZE, 1048576],
];
export const SERVER_CONNECTION_WINDOW = 983041;

/** The tunnel request of a client. */
export interface TunnelRequest {
  /** The authority (`host` option, else the node address with its port). */
  authority: string;
  /** Empty: CONNECT; else GET on this path. */
  path: string;
  /** Extra request headers. */
  header: Record<string, string>;
  /** Over TLS (h2): GET requests say https. */
  secure?: boolean;
}

/** The request headers gost's dialer sends (field order as Go writes them). */
export function requestHeaders(req: TunnelRequest): HeaderField[] {
  const extra = Object.entries(req.header).map(([k, v]) => [k.toLowerCase(), v] as HeaderField);
  const base: HeaderField[] = req.path
    ? [[":authority", req.authority], [":method", "GET"], [":path", req.path], [
      ":scheme",
      req.secure ? "https" : "http",
    ]]
    : [[":authority", req.authority], [":method", "CONNECT"]];
  return [...base, ...extra, ["accept-encoding", "gzip"], ["user-agent", "Go-http-client/2.0"]];
}

/** The client end: streams opened with {@link requestHeaders}, each once answered 200. */
export class TunnelClient {
  readonly session: Http2Session;
  constructor(carrier: Duplex, readonly req: TunnelRequest, readonly timeout: number, log?: Logger) {
    this.session = new Http2Session(carrier, {
      client: true,
      settings: CLIENT_SETTINGS,
      connectionWindowIncrement: CLIENT_CONNECTION_WINDOW,
      log,
    });
  }

  get closed(): boolean {
    return this.session.draining;
  }

  get done(): Promise<void> {
    return this.session.done;
  }

  close(): void {
    this.session.close();
  }

  async openStream(): Promise<Duplex> {
    const stream = await this.session.request(requestHeaders(this.req));
    try {
      const headers = await deadline(stream.waitHeaders(), this.timeout, "http2 tunnel: response");
      const status = headers?.find(([n]) => n === ":status")?.[1];
      if (status !== "200") throw new Error(`http2 tunnel: the server answered ${status ?? "nothing"}`);
      return stream;
    } catch (err) {
      stream.reset(ErrorCode.CANCEL);
      throw err;
    }
  }
}

/** The server end: streams that asked for the tunnel, answered 200; other requests refused. */
export class TunnelServer {
  readonly session: Http2Session;
  constructor(conn: Duplex, readonly path: string, log?: Logger) {
    this.session = new Http2Session(conn, {
      client: false,
      settings: SERVER_SETTINGS,
      connectionWindowIncrement: SERVER_CONNECTION_WINDOW,
      maxConcurrentStreams: 250,
      log,
    });
  }

  get done(): Promise<void> {
    return this.session.done;
  }

  close(): void {
    this.session.close();
  }

  async accept(): Promise<Duplex | null> {
    for (;;) {
      const s = await this.session.accept();
      if (!s) return null;
      const refusal = this.#check(s);
      if (refusal) {
        await s.respond([[":status", refusal], ["content-length", "0"]], true).catch(() => {});
        s.reset(ErrorCode.NO_ERROR);
        continue;
      }
      try {
        await s.respond([[":status", "200"], ["date", new Date().toUTCString()]]);
      } catch {
        continue; // the client reset it meanwhile
      }
      return s;
    }
  }

  /** The status refusing `s`, or "" to accept it. */
  #check(s: Http2Stream): string {
    if (!this.path) return s.header(":method") === "CONNECT" ? "" : "405";
    return s.header(":path") === this.path ? "" : "400";
  }
}
