/**
 * The pht client: HTTP/1.1 keep-alive connections to one node (a small pool, as Go's transport
 * keeps), and per tunnel an authorize, a pull loop that holds one connection while it waits, and
 * pushes on another. Requests are byte for byte those of gost's client (wire.ts).
 *
 * Unlike gost's client, closing a tunnel sends the push that closes it on the server (an empty
 * body), and the end of the client's data is a lone `\n` push (ignored by gost's server).
 * @module
 */
import { BufferedReader } from "../../core/buffered_reader.ts";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { HttpError, parseResponseHead, readHead, responseBody } from "../http/http.ts";
import {
  HALF_CLOSE_BODY,
  parseAuthorizeBody,
  type PhtPaths,
  phtRequest,
  pushBody,
  withToken,
} from "./wire.ts";

/** Go's transport closes a connection idle this long. */
const IDLE_CONN_TIMEOUT = 90_000;
/** Bytes pulled ahead of the application before the pull loop waits. */
const RX_LIMIT = 1024 * 1024;
const CRLF = new Uint8Array([13, 10]);
const decoder = new TextDecoder();

/** What a client is built from. */
export interface PhtClientOptions {
  /** The `Host` header: the node address, or the `host` option with the node's port. */
  host: string;
  paths: PhtPaths;
  header: Record<string, string>;
  /** Opens a new HTTP connection to the node (TCP, or TLS for phts; through earlier hops). */
  open: () => Promise<Duplex>;
  log: Logger;
}

/** One HTTP connection. */
class HttpConn {
  readonly r: BufferedReader;
  readonly w: WritableStreamDefaultWriter<Uint8Array>;
  reused = false;
  idleTimer?: ReturnType<typeof setTimeout>;
  constructor(readonly conn: Duplex) {
    this.r = new BufferedReader(conn);
    this.w = conn.writable.getWriter();
    this.w.closed.catch(() => {});
  }
}

/** A response whose body is still to be read from `c`. */
interface Response {
  status: number;
  chunked: boolean;
  length: number;
  close: boolean;
  c: HttpConn;
}

/** The HTTP side of every tunnel to one node. */
export class PhtClient {
  readonly #idle: HttpConn[] = [];
  readonly #all = new Set<HttpConn>();
  #closed = false;

  constructor(readonly opts: PhtClientOptions) {}

  /** HTTP connections open now (for tests). */
  get connCount(): number {
    return this.#all.size;
  }

  /** Authorizes a new tunnel (on a pooled connection) and starts its pull loop. */
  async dial(local: string, remote: string): Promise<Duplex> {
    const res = await this.roundTrip(phtRequest("GET", this.opts.paths.authorize, this.opts.host, this.#h()));
    const body = await this.readAll(res);
    const token = res.status === 200 ? parseAuthorizeBody(body) : null;
    if (!token) {
      throw new Error(`pht: authorize failed: ${res.status === 200 ? "no token" : `HTTP ${res.status}`}`);
    }
    const t = new ClientTunnel(this, token);
    return new IODuplex(t, () => t.close(), local, remote);
  }

  #h() {
    return { header: this.opts.header };
  }

  /** A request on a pooled connection; a reused one that fails before answering is retried once. */
  async roundTrip(head: Uint8Array, body?: Uint8Array): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      const c = await this.#acquire();
      try {
        await c.w.write(head);
        if (body && body.length) await c.w.write(body);
        const raw = await readHead(c.r, "pht response");
        if (!raw) throw new HttpError("connection closed before a response");
        const h = parseResponseHead(raw);
        const framing = responseBody("GET", h.status, h.headers);
        return {
          status: h.status,
          chunked: framing.kind === "chunked",
          length: framing.kind === "length" ? framing.length : 0,
          close: framing.kind === "close" ||
            h.headers.some(([k, v]) => k.toLowerCase() === "connection" && /close/i.test(v)),
          c,
        };
      } catch (err) {
        this.#drop(c);
        if (!c.reused || attempt > 0 || this.#closed) throw err;
      }
    }
  }

  /** Reads a whole (small) body and returns the connection to the pool. */
  async readAll(res: Response): Promise<Uint8Array> {
    try {
      let body: Uint8Array = new Uint8Array(0);
      if (res.chunked) {
        const parts: Uint8Array[] = [];
        await readChunks(res.c.r, (b) => void parts.push(b));
        body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let off = 0;
        for (const p of parts) body.set(p, (off += p.length) - p.length);
      } else if (res.length > 0) {
        if (res.length > 64 * 1024) throw new HttpError("response body too large");
        body = await res.c.r.readExact(res.length, "pht response body");
      }
      this.release(res);
      return body;
    } catch (err) {
      this.#drop(res.c);
      throw err;
    }
  }

  /** Back to the pool once its response was read to the end. */
  release(res: Response): void {
    const c = res.c;
    if (res.close || this.#closed) return this.#drop(c);
    c.reused = true;
    c.idleTimer = setTimeout(() => {
      const i = this.#idle.indexOf(c);
      if (i >= 0) this.#idle.splice(i, 1);
      this.#drop(c);
    }, IDLE_CONN_TIMEOUT);
    this.#idle.push(c);
  }

  /** Closes a connection that cannot be reused (a pull under way, an error). */
  drop(res: Response): void {
    this.#drop(res.c);
  }

  #drop(c: HttpConn): void {
    clearTimeout(c.idleTimer);
    this.#all.delete(c);
    c.conn.close();
  }

  async #acquire(): Promise<HttpConn> {
    const idle = this.#idle.pop();
    if (idle) {
      clearTimeout(idle.idleTimer);
      return idle;
    }
    if (this.#closed) throw new Error("pht: client closed");
    const c = new HttpConn(await this.opts.open());
    this.#all.add(c);
    return c;
  }

  close(): void {
    this.#closed = true;
    for (const c of [...this.#all]) this.#drop(c);
    this.#idle.length = 0;
  }
}

/** Reads a chunked body to its end, handing on each chunk's data (a copy). */
async function readChunks(r: BufferedReader, onData: (b: Uint8Array) => void | Promise<void>): Promise<void> {
  for (;;) {
    const line = decoder.decode(await r.readUntil(CRLF, 4096, "chunk size"));
    const size = parseInt(line, 16);
    if (!/^[0-9a-fA-F]+/.test(line) || !(size >= 0)) throw new HttpError("bad chunk size line");
    if (size === 0) {
      while ((await r.readUntil(CRLF, 8192, "chunk trailer")).length > 2);
      return;
    }
    await onData(await r.readExact(size, "chunk"));
    await r.readExact(2, "chunk end");
  }
}

/** One tunnel: reads come from the pull loop, each write is one push. */
class ClientTunnel implements DirectIO {
  readonly #rx: Uint8Array[] = [];
  #rxBytes = 0;
  #eof = false;
  #error: Error | null = null;
  #closed = false;
  #wakeReader: (() => void) | null = null;
  #wakePuller: (() => void) | null = null;
  #pull: Response | null = null;
  readonly #push: string;

  constructor(readonly client: PhtClient, readonly token: string) {
    this.#push = withToken(client.opts.paths.push, token);
    this.#pullLoop().catch((err) => {
      if (!this.#closed) client.opts.log.debug(`pht: pull: ${errorMessage(err)}`);
      this.#error = err instanceof Error ? err : new Error(String(err));
      this.#end();
    });
  }

  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#rx.length === 0) {
      if (this.#error && !this.#closed) throw this.#error;
      if (this.#eof || this.#closed) return null;
      await new Promise<void>((r) => (this.#wakeReader = r));
    }
    const head = this.#rx[0];
    const n = Math.min(buf.length, head.length);
    buf.set(head.subarray(0, n));
    if (n === head.length) this.#rx.shift();
    else this.#rx[0] = head.subarray(n);
    this.#rxBytes -= n;
    this.#wakePuller?.();
    return n;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error("pht: write on a closed tunnel");
    if (data.length === 0) return;
    await this.#send(pushBody(data));
  }

  /** The end of our data: our server half-closes; gost's ignores it. */
  async closeWrite(): Promise<void> {
    if (this.#closed) return;
    await this.#send(HALF_CLOSE_BODY).catch(() => {});
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#end();
    if (this.#pull) this.client.drop(this.#pull);
    // The push with an empty body that ends the tunnel on the server (gost's client never sends it).
    this.#send(new Uint8Array(0)).catch(() => {});
  }

  async #send(body: Uint8Array): Promise<void> {
    const { host, header } = this.client.opts;
    const head = phtRequest("POST", this.#push, host, { contentLength: body.length, header });
    const res = await this.client.roundTrip(head, body);
    await this.client.readAll(res);
    if (res.status !== 200) throw new Error(`pht: push: HTTP ${res.status}`);
  }

  #end(): void {
    this.#eof = true;
    this.#wakeReader?.();
    this.#wakePuller?.();
  }

  async #pullLoop(): Promise<void> {
    const { host, header, paths } = this.client.opts;
    const head = phtRequest("GET", withToken(paths.pull, this.token), host, { header });
    while (!this.#closed) {
      const res = await this.client.roundTrip(head);
      if (res.status !== 200) {
        await this.client.readAll(res);
        throw new Error(`pht: pull: HTTP ${res.status}`);
      }
      this.#pull = res;
      let lines = 0;
      let partial: Uint8Array[] = [];
      await readChunks(res.c.r, async (data) => {
        let from = 0;
        for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, from)) {
          partial.push(data.subarray(from, nl));
          from = nl + 1;
          lines++;
          await this.#line(partial);
          partial = [];
        }
        if (from < data.length) partial.push(data.subarray(from));
      });
      this.#pull = null;
      if (this.#closed) return this.client.drop(res);
      this.client.release(res);
      if (lines === 0) return this.#end(); // the server's end of the tunnel
    }
  }

  /** One pull line: base64 of one server read (empty: nothing this time). */
  async #line(parts: Uint8Array[]): Promise<void> {
    let text = "";
    for (const p of parts) text += decoder.decode(p);
    if (text === "") return;
    const data = Uint8Array.fromBase64(text);
    this.#rx.push(data);
    this.#rxBytes += data.length;
    this.#wakeReader?.();
    while (this.#rxBytes > RX_LIMIT && !this.#closed) {
      await new Promise<void>((r) => (this.#wakePuller = r));
    }
  }
}
