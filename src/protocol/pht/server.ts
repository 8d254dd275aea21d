/**
 * The pht server: an HTTP/1.1 keep-alive server over the connections of a channel listener (tcp,
 * or tls for phts). Each authorize request creates one tunnel (an in-memory pipe whose other end
 * the handler gets) under a new token; pushes feed the tunnel, pulls drain it. Tokens outlive
 * TCP connections: gost's client pulls on one connection and pushes on another.
 *
 * Beyond gost: a tunnel that nobody has asked for in {@link STALE_AFTER} while no pull is open is
 * closed (gost keeps it until the process ends), and a lone `\n` push is a half-close.
 * @module
 */
import { AcceptQueue } from "../../core/accept_queue.ts";
import { BufferedReader } from "../../core/buffered_reader.ts";
import { concat } from "../../core/bytes.ts";
import type { Duplex } from "../../core/duplex.ts";
import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { duplexPair } from "../../core/pipe.ts";
import { deadline } from "../../core/timeout.ts";
import type { Listener } from "../../core/types.ts";
import { newXid } from "../../core/xid.ts";
import { HttpError, parseRequestHead, readHead, requestBody } from "../http/http.ts";
import {
  authorizeResponse,
  EMPTY_LINE_CHUNK,
  emptyResponse,
  LAST_CHUNK,
  notFoundResponse,
  parsePushBody,
  parseTarget,
  type PhtPaths,
  PULL_READ_SIZE,
  PULL_TIMEOUT,
  pullChunk,
  pullResponseHead,
} from "./wire.ts";

/** A tunnel idle this long (no request, no open pull) is closed. */
export const STALE_AFTER = 60_000;
/** The largest push body accepted (a gost client pushes one write of at most 32 KiB). */
export const MAX_PUSH_BODY = 8 * 1024 * 1024;
/** How long a push may wait for the handler to take its data (gost: 30 s, then 410). */
const PUSH_WRITE_TIMEOUT = 30_000;
/** Go's ReadHeaderTimeout for the first request of a connection; later ones wait this long idle. */
const FIRST_HEAD_TIMEOUT = 30_000;
const IDLE_TIMEOUT = 120_000;

/** The server's end of one tunnel. */
class Tunnel {
  readonly handlerEnd: Duplex;
  readonly #end: Duplex;
  readonly #buf = new Uint8Array(PULL_READ_SIZE);
  /** The read under way: kept across pull responses so no data is lost to a timeout. */
  #reading: Promise<number | null> | null = null;
  /** The pull that may consume reads; an older one ends as soon as it wakes. */
  pullEpoch = 0;
  openPulls = 0;
  lastSeen = performance.now();
  closed = false;

  constructor(local: string, remote: string, readonly onClose: () => void) {
    [this.handlerEnd, this.#end] = duplexPair({ addrs: [local, remote] });
  }

  /** The handler's next bytes (a view into a buffer reused by the next read), or null at its end. */
  async read(timeout: number): Promise<Uint8Array | null | "timeout"> {
    this.#reading ??= this.#end.direct!.read(this.#buf);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeout)));
    const got = await Promise.race([this.#reading, t]).finally(() => clearTimeout(timer));
    if (got === "timeout") return got;
    this.#reading = null;
    return got === null ? null : this.#buf.subarray(0, got);
  }

  write(data: Uint8Array): Promise<void> {
    return this.#end.direct!.write(data);
  }

  halfClose(): Promise<void> {
    return this.#end.direct!.closeWrite();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#end.close();
    this.handlerEnd.close();
    this.onClose();
  }
}

/** What the server needs to know. */
export interface PhtServerOptions {
  paths: PhtPaths;
  backlog: number;
  log: Logger;
  /** How long a pull waits for data (gost: 10 s; shorter in tests). */
  pullTimeout?: number;
}

/** The pht listener: tunnels created by authorize requests are its accepted connections. */
export class PhtServer implements Listener {
  readonly #queue: AcceptQueue<Duplex>;
  readonly #tunnels = new Map<string, Tunnel>();
  readonly #conns = new Set<Duplex>();
  #sweeper?: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(readonly channel: Listener, readonly opts: PhtServerOptions) {
    this.#queue = new AcceptQueue(opts.backlog);
  }

  get addr(): string {
    return this.channel.addr;
  }

  /** Tunnels alive now (for tests). */
  get tunnelCount(): number {
    return this.#tunnels.size;
  }

  async listen(): Promise<void> {
    await this.channel.listen();
    this.#sweeper = setInterval(() => this.#sweep(), STALE_AFTER / 6);
    this.#acceptLoop();
  }

  accept(): Promise<Duplex | null> {
    return this.#queue.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.channel.close();
    this.#queue.close();
    for (const t of [...this.#tunnels.values()]) t.close();
    for (const c of this.#conns) c.close();
  }

  #sweep(): void {
    const now = performance.now();
    for (const [token, t] of this.#tunnels) {
      if (t.openPulls === 0 && now - t.lastSeen > STALE_AFTER) {
        this.opts.log.debug(`pht: tunnel ${token} idle for ${STALE_AFTER / 1000} s: closed`);
        t.close();
      }
    }
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Duplex | null;
      try {
        conn = await this.channel.accept();
      } catch (err) {
        if (this.#closed) break;
        this.opts.log.debug(`pht: accept: ${errorMessage(err)}`);
        continue;
      }
      if (!conn) break;
      const c = conn;
      this.#conns.add(c);
      this.#serve(c).catch((err) => this.opts.log.debug(`pht: ${c.remote}: ${errorMessage(err)}`))
        .finally(() => {
          this.#conns.delete(c);
          c.close();
        });
    }
    this.close();
  }

  /** One HTTP/1.1 connection: requests one after another until either side closes. */
  async #serve(conn: Duplex): Promise<void> {
    const r = new BufferedReader(conn);
    const w = conn.writable.getWriter();
    for (let first = true; !this.#closed; first = false) {
      const t = first ? FIRST_HEAD_TIMEOUT : IDLE_TIMEOUT;
      const raw = await deadline(readHead(r, "pht request"), t, "pht request", () => conn.close());
      if (!raw) return;
      let keep: boolean;
      try {
        keep = await this.#request(conn, r, w, raw);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        this.opts.log.info(`pht: ${conn.remote}: ${err.message}`);
        await w.write(emptyResponse(err.status, undefined, true));
        return;
      }
      if (!keep) return;
    }
  }

  /** Answers one request; false when the connection must end after it. */
  async #request(
    conn: Duplex,
    r: BufferedReader,
    w: WritableStreamDefaultWriter<Uint8Array>,
    raw: Uint8Array,
  ): Promise<boolean> {
    const head = parseRequestHead(raw);
    const body = await readBody(r, requestBody(head.headers));
    const keep = head.version === "HTTP/1.1" &&
      !head.headers.some(([k, v]) => k.toLowerCase() === "connection" && /close/i.test(v));
    const { path, token } = parseTarget(head.target);
    const { paths } = this.opts;
    if (path === paths.authorize) {
      await w.write(this.#authorize(conn));
    } else if (path === paths.push) {
      if (head.method !== "POST") await w.write(emptyResponse(400));
      else await w.write(await this.#push(token, body));
    } else if (path === paths.pull) {
      const t = this.#tunnels.get(token);
      if (head.method !== "GET") await w.write(emptyResponse(400));
      else if (!t) await w.write(emptyResponse(403));
      else return await this.#pull(t, r, w) && keep;
    } else {
      await w.write(notFoundResponse());
    }
    return keep;
  }

  #authorize(conn: Duplex): Uint8Array {
    if (this.#queue.full) {
      this.opts.log.warn(`pht: connection queue is full, client ${conn.remote} discarded`);
      return emptyResponse(429);
    }
    const token = newXid();
    const t = new Tunnel(this.addr, conn.remote, () => this.#tunnels.delete(token));
    this.#tunnels.set(token, t);
    this.#queue.offer(t.handlerEnd);
    return authorizeResponse(token);
  }

  async #push(token: string, body: Uint8Array): Promise<Uint8Array> {
    const t = this.#tunnels.get(token);
    if (!t) return emptyResponse(403);
    t.lastSeen = performance.now();
    const action = parsePushBody(body);
    switch (action.kind) {
      case "close":
        t.close();
        return emptyResponse(200);
      case "halfClose":
        await t.halfClose();
        return emptyResponse(200);
      case "bad":
        this.opts.log.info(`pht: tunnel ${token}: a push that is not base64: closed`);
        t.close();
        return emptyResponse(400);
    }
    try {
      await deadline(t.write(action.data), PUSH_WRITE_TIMEOUT, "pht push");
      return emptyResponse(200);
    } catch (err) {
      this.opts.log.debug(`pht: tunnel ${token}: ${errorMessage(err)}`);
      t.close();
      return emptyResponse(410);
    }
  }

  /**
   * Streams what the handler writes; true when the connection may serve another request. A
   * client that goes away during the pull (its connection ends) takes its tunnel with it.
   */
  async #pull(t: Tunnel, r: BufferedReader, w: WritableStreamDefaultWriter<Uint8Array>): Promise<boolean> {
    const epoch = ++t.pullEpoch;
    t.openPulls++;
    t.lastSeen = performance.now();
    // Go's client sends nothing while it waits for a response: a read that ends means it is gone.
    const watch = r.want(1).catch(() => false);
    const gone = watch.then((more) => (more ? new Promise<never>(() => {}) : "gone" as const));
    try {
      await w.write(pullResponseHead());
      for (;;) {
        const got = await Promise.race([t.read(this.opts.pullTimeout ?? PULL_TIMEOUT), gone]);
        if (got === "gone") {
          t.close();
          return false;
        }
        if (t.pullEpoch !== epoch || t.closed) break;
        if (got === "timeout") {
          await w.write(EMPTY_LINE_CHUNK);
          break;
        }
        if (got === null) {
          // The handler is done: a response without a line tells the client so. The token stays
          // for the client's pushes until it closes (or the sweep), as gost keeps it.
          await w.write(LAST_CHUNK);
          return await deadline(watch, IDLE_TIMEOUT, "pht idle");
        }
        await w.write(pullChunk(got));
      }
      await w.write(LAST_CHUNK);
      return await deadline(watch, IDLE_TIMEOUT, "pht idle");
    } finally {
      t.openPulls--;
      t.lastSeen = performance.now();
    }
  }
}

/** Reads a request body (bounded); the empty array when there is none. */
async function readBody(r: BufferedReader, framing: ReturnType<typeof requestBody>): Promise<Uint8Array> {
  if (framing.kind === "length") {
    if (framing.length > MAX_PUSH_BODY) throw new HttpError("request body too large", 413);
    return await r.readExact(framing.length, "pht request body");
  }
  if (framing.kind !== "chunked") return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const CRLF = new Uint8Array([13, 10]);
  for (;;) {
    const line = new TextDecoder().decode(await r.readUntil(CRLF, 4096, "chunk size"));
    const size = parseInt(line, 16);
    if (!/^[0-9a-fA-F]+/.test(line) || !(size >= 0)) throw new HttpError("bad chunk size line");
    if (size === 0) {
      while ((await r.readUntil(CRLF, 8192, "chunk trailer")).length > 2);
      break;
    }
    total += size;
    if (total > MAX_PUSH_BODY) throw new HttpError("request body too large", 413);
    parts.push(await r.readExact(size, "chunk"));
    await r.readExact(2, "chunk end");
  }
  return concat(parts);
}
