/**
 * The `http` handler: an HTTP/1.x proxy. CONNECT tunnels, absolute-URI requests forwarded
 * with keep-alive (bodies by length or chunked, upgrades such as WebSocket switch to a
 * tunnel), Basic proxy auth answered with 407, and with `udp=true` GOST's UDP-over-HTTP
 * (`CONNECT` with `X-Gost-Protocol: udp`, then SOCKS5-style stream frames).
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { Authenticator, type Auther, parseBasicCredentials } from "../core/auth.ts";
import { BufferedReader, TooLong } from "../core/buffered_reader.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { BypassError, errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import {
  copyBytes,
  copyChunked,
  copyToEnd,
  encodeHead,
  encodeSimpleResponse,
  getHeader,
  headerHas,
  type Headers,
  HttpError,
  parseRequestHead,
  parseResponseHead,
  readHead,
  requestBody,
  type RequestHead,
  responseBody,
  withoutHeaders,
} from "../protocol/http/http.ts";
import { RequestHeadScanner } from "../protocol/http/head_scan.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { serveUdpTun } from "./udp_tun.ts";

export const httpHandlerOptions = defineOptions({
  readTimeout: opt.duration("readTimeout", 15_000),
  idleTimeout: opt.ignored("idleTimeout", "relayed connections have no idle deadline"),
  header: opt.map(["header", "http.header"]),
  keepalive: opt.bool(["keepalive", "http.keepalive"], true),
  udp: opt.bool("udp", false),
  udpBufferSize: opt.ignored(
    ["udpBufferSize", "udp.bufferSize"],
    "datagrams are relayed whole (up to 64 KiB), not cut to a buffer size",
  ),
  authBasicRealm: opt.string("authBasicRealm", "gost"),
  proxyAgent: opt.string("proxyAgent", "gost/3.0"),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
});

export type HttpHandlerOptions = Options<typeof httpHandlerOptions.schema>;

/** Headers a proxy consumes and does not pass on. */
const PROXY_HEADERS = ["Proxy-Authorization", "Proxy-Connection", "Proxy-Authenticate"];

interface Upstream {
  addr: string;
  conn: Duplex;
  reader: BufferedReader;
}

/** Serves HTTP proxy requests. */
export class HttpHandler implements Handler {
  readonly #auth?: Auther;
  readonly #extra: Headers;
  constructor(readonly init: HandlerInit, readonly opts: HttpHandlerOptions) {
    this.#auth = init.auther ?? Authenticator.from(init.auth);
    this.#extra = Object.entries(opts.header);
  }

  #respond(status: number, headers: Headers = [], close = true): Uint8Array {
    const h: Headers = [["Proxy-Agent", this.opts.proxyAgent], ...this.#extra, ...headers];
    if (status !== 200 || close) h.push(["Content-Length", "0"]);
    if (close) h.push(["Connection", "close"]);
    return encodeSimpleResponse(status, h);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const reader = new BufferedReader(conn);
    let upstream: Upstream | undefined;
    let input = 0, output = 0;
    const toClient = async (b: Uint8Array) => {
      output += b.length;
      await writeTo(conn, b);
    };
    try {
      for (let first = true;; first = false) {
        let head: Uint8Array | null;
        try {
          const scanner = new RequestHeadScanner();
          head = await deadline(
            readHead(reader, "http request head", (soFar) => scanner.scan(soFar)),
            this.opts.readTimeout,
            "http request head",
            () => conn.close(),
          );
        } catch (err) {
          if (err instanceof TooLong) await this.#fail(conn, 431);
          if (err instanceof HttpError) {
            await this.#fail(conn, err.status);
            throw new Error(`http: ${errorMessage(err)}`);
          }
          if (first) throw new Error(`http: ${errorMessage(err)}`);
          return; // an idle keep-alive connection timing out or closing is normal
        }
        if (!head) {
          if (first) throw new Error("http: connection closed before a request");
          return;
        }
        let req: RequestHead;
        try {
          req = parseRequestHead(head);
        } catch (err) {
          await this.#fail(conn, err instanceof HttpError ? err.status : 400);
          throw new Error(`http: ${errorMessage(err)}`);
        }
        if (!(await this.#authorize(req, conn, ctx))) return;
        if (req.method === "CONNECT") {
          upstream?.conn.close();
          return await this.#connect(req, reader, conn, ctx);
        }
        const done = await this.#forward(req, reader, conn, ctx, upstream, toClient, (n) => input += n);
        upstream = done.upstream;
        if (done.close) return;
      }
    } finally {
      upstream?.conn.close();
      if (ctx.record.inputBytes === undefined) {
        ctx.record.inputBytes = input;
        ctx.record.outputBytes = output;
      }
    }
  }

  async #fail(conn: Duplex, status: number): Promise<void> {
    try {
      await writeTo(conn, this.#respond(status));
    } catch {
      // the client left
    }
    conn.close();
  }

  async #authorize(req: RequestHead, conn: Duplex, ctx: HandlerContext): Promise<boolean> {
    if (!this.#auth) return true;
    const value = getHeader(req.headers, "proxy-authorization");
    const cred = value ? parseBasicCredentials(value) : undefined;
    if (cred && this.#auth.check(cred.username, cred.password)) return true;
    ctx.record.dst = req.method === "CONNECT" ? req.target : "";
    ctx.log.warn("http: proxy authentication failed", { user: cred?.username ?? "" });
    try {
      await writeTo(
        conn,
        this.#respond(407, [["Proxy-Authenticate", `Basic realm="${this.opts.authBasicRealm}"`]]),
      );
    } catch {
      // the client left
    }
    conn.close();
    return false;
  }

  async #connect(req: RequestHead, reader: BufferedReader, conn: Duplex, ctx: HandlerContext): Promise<void> {
    const addr = req.target;
    ctx.record.dst = addr;
    try {
      splitHostPort(addr);
    } catch (err) {
      await this.#fail(conn, 400);
      throw new Error(`http: CONNECT: ${errorMessage(err)}`);
    }
    const dctx = { log: ctx.log, signal: ctx.signal };
    if (getHeader(req.headers, "x-gost-protocol")?.toLowerCase() === "udp") {
      if (!this.opts.udp) {
        await this.#fail(conn, 403);
        throw new Error("http: UDP relay refused: udp is disabled (set udp=true)");
      }
      await writeTo(conn, this.#respond(200, [], false));
      return await serveUdpTun(conn, reader, this.init.router, ctx);
    }
    let target: Duplex;
    try {
      target = await this.init.router.dial("tcp", addr, dctx);
    } catch (err) {
      await this.#fail(conn, err instanceof BypassError ? 403 : 503);
      throw err;
    }
    const client = reader.release();
    await writeTo(client, this.#connectEstablished());
    ctx.log.debug(`${conn.remote} <-> ${addr}`);
    await relayRecorded(client, target, ctx);
  }

  #established?: Uint8Array;
  #connectEstablished(): Uint8Array {
    return this.#established ??= encodeHead("HTTP/1.1 200 Connection established", [
      ["Proxy-Agent", this.opts.proxyAgent],
      ...this.#extra,
    ]);
  }

  /** Forwards one absolute-URI request and its response; says whether to close after. */
  async #forward(
    req: RequestHead,
    reader: BufferedReader,
    conn: Duplex,
    ctx: HandlerContext,
    upstream: Upstream | undefined,
    toClient: (b: Uint8Array) => Promise<void>,
    countIn: (n: number) => void,
  ): Promise<{ upstream?: Upstream; close: boolean }> {
    let url: URL;
    try {
      url = new URL(req.target);
      if (url.protocol !== "http:") throw new Error(`unsupported scheme ${url.protocol}`);
    } catch (err) {
      await this.#fail(conn, 400);
      throw new Error(
        `http: request target ${JSON.stringify(req.target.slice(0, 100))}: ${errorMessage(err)}`,
      );
    }
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const addr = joinHostPort(host, Number(url.port || 80));
    ctx.record.dst = addr;
    let body;
    try {
      body = requestBody(req.headers);
    } catch (err) {
      await this.#fail(conn, err instanceof HttpError ? err.status : 400);
      throw err;
    }
    const clientClose = headerHas(req.headers, "connection", "close") ||
      headerHas(req.headers, "proxy-connection", "close") ||
      (req.version === "HTTP/1.0" && !headerHas(req.headers, "connection", "keep-alive") &&
        !headerHas(req.headers, "proxy-connection", "keep-alive")) ||
      !this.opts.keepalive;
    if (upstream && upstream.addr !== addr) {
      upstream.conn.close();
      upstream = undefined;
    }
    if (!upstream) {
      let up: Duplex;
      try {
        up = await this.init.router.dial("tcp", addr, { log: ctx.log, signal: ctx.signal });
      } catch (err) {
        await this.#fail(conn, err instanceof BypassError ? 403 : 503);
        throw err;
      }
      upstream = { addr, conn: up, reader: new BufferedReader(up) };
    }
    const up = upstream;
    const toUp = async (b: Uint8Array) => {
      countIn(b.length);
      await writeTo(up.conn, b);
    };
    let headers = withoutHeaders(req.headers, ...PROXY_HEADERS);
    if (!getHeader(headers, "host")) headers = [["Host", url.host], ...headers];
    // A client waiting for "100 Continue" would stall while we wait for its body: answer it
    // here and let the body follow without the expectation upstream.
    if (body.kind !== "none" && headerHas(headers, "expect", "100-continue")) {
      headers = withoutHeaders(headers, "Expect");
      await toClient(encodeHead("HTTP/1.1 100 Continue", []));
    }
    await toUp(encodeHead(`${req.method} ${url.pathname}${url.search} ${req.version}`, headers));
    if (body.kind === "length") await copyBytes(reader, body.length, toUp);
    else if (body.kind === "chunked") await copyChunked(reader, toUp);

    for (;;) {
      const head = await up.reader.readUntil(
        new Uint8Array([13, 10, 13, 10]),
        64 * 1024,
        "upstream response",
      );
      const res = parseResponseHead(head);
      if (res.status === 101) {
        await toClient(head);
        await relayRecorded(reader.release(), up.reader.release(), ctx);
        return { close: true };
      }
      await toClient(head);
      if (res.status >= 100 && res.status < 200) continue;
      const framing = responseBody(req.method, res.status, res.headers);
      if (framing.kind === "length") await copyBytes(up.reader, framing.length, toClient);
      else if (framing.kind === "chunked") await copyChunked(up.reader, toClient);
      else if (framing.kind === "close") {
        await copyToEnd(up.reader, toClient);
        up.conn.close();
        return { close: true };
      }
      const upClose = headerHas(res.headers, "connection", "close") ||
        (res.version === "HTTP/1.0" && !headerHas(res.headers, "connection", "keep-alive"));
      if (upClose) {
        up.conn.close();
        return { close: true };
      }
      return { upstream: up, close: clientClose };
    }
  }
}

export const httpHandler: HandlerFactory = {
  options: httpHandlerOptions,
  create: (init: HandlerInit, opts: HttpHandlerOptions) => new HttpHandler(init, opts),
};
