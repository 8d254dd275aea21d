/**
 * The server side of UDP relaying for proxy handlers: datagrams from a client (framed in
 * its stream, or SOCKS5 UDP packets) go to whatever address each one names, through the
 * handler's router (so a chain applies), and answers come back tagged with their source.
 * Shared by SOCKS5 (UDP ASSOCIATE and 0xF3), HTTP `X-Gost-Protocol: udp` and relay BIND.
 * @module
 */
import { dialHost, formatAddr, splitHostPort } from "../core/addr.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import { writeHalf } from "../core/direct_io.ts";
import type { HandlerContext, Router } from "../core/types.ts";
import { encodeStreamFrame, readStreamFrame } from "../protocol/socks5/udp.ts";

/** Destinations one association keeps open at once; the oldest is closed past this. */
const MAX_PEERS = 64;

interface Peer {
  conn: Promise<Duplex>;
  writer?: WritableStreamDefaultWriter<Uint8Array>;
}

/** Datagrams to many destinations for one client, answers handed to `reply`. */
export class UdpRelay {
  readonly #peers = new Map<string, Peer>();
  #closed = false;
  inputBytes = 0;
  outputBytes = 0;

  constructor(
    readonly router: Router,
    readonly ctx: HandlerContext,
    readonly reply: (src: string, payload: Uint8Array) => Promise<void>,
  ) {}

  /** Sends `payload` to `dst` (opening the way there on first use). */
  async send(dst: string, payload: Uint8Array): Promise<void> {
    if (this.#closed) return;
    let peer = this.#peers.get(dst);
    if (!peer) {
      if (this.#peers.size >= MAX_PEERS) {
        const [oldest, p] = this.#peers.entries().next().value!;
        this.#peers.delete(oldest);
        p.conn.then((c) => c.close(), () => {});
      }
      const conn = this.router.dial("udp", dst, { log: this.ctx.log, signal: this.ctx.signal });
      peer = { conn };
      this.#peers.set(dst, peer);
      conn.then((c) => this.#pump(dst, c), () => this.#peers.delete(dst));
    }
    let conn: Duplex;
    try {
      conn = await peer.conn;
    } catch (err) {
      this.ctx.log.debug(`udp: ${dst}: ${errorMessage(err)}`);
      return;
    }
    peer.writer ??= conn.writable.getWriter();
    this.inputBytes += payload.length;
    try {
      await peer.writer.write(payload);
    } catch (err) {
      this.ctx.log.debug(`udp: send to ${dst}: ${errorMessage(err)}`);
    }
  }

  async #pump(dst: string, conn: Duplex): Promise<void> {
    const reader = conn.readable.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done || this.#closed) break;
        this.outputBytes += r.value.length;
        await this.reply(dst, r.value);
      }
    } catch (err) {
      if (!this.#closed) this.ctx.log.debug(`udp: from ${dst}: ${errorMessage(err)}`);
    } finally {
      reader.releaseLock();
      conn.close();
      const p = this.#peers.get(dst);
      if (p && (await p.conn.catch(() => null)) === conn) this.#peers.delete(dst);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#peers.values()) p.conn.then((c) => c.close(), () => {});
    this.#peers.clear();
  }
}

/**
 * Serves GOST's UDP-over-stream framing on `conn` (after the protocol's OK reply) until the
 * client ends the stream. `reader` may hold bytes already read past the handshake.
 */
export async function serveUdpTun(
  conn: Duplex,
  reader: BufferedReader | undefined,
  router: Router,
  ctx: HandlerContext,
): Promise<void> {
  ctx.record.network = "udp";
  const frames = reader ?? new BufferedReader(conn);
  const out = writeHalf(conn);
  // Answers from several destinations must not interleave inside the stream.
  let queue = Promise.resolve();
  const relay = new UdpRelay(router, ctx, (src, payload) => {
    const frame = encodeStreamFrame(encodeSocksAddr(src), payload);
    queue = queue.then(() => out.write(frame));
    return queue;
  });
  const onAbort = () => conn.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const f = await readStreamFrame(frames);
      if (!f) break;
      await relay.send(f.addr, f.payload);
    }
  } catch (err) {
    if (!ctx.signal.aborted) ctx.log.debug(`udp tunnel: ${errorMessage(err)}`);
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    relay.close();
    conn.close();
    ctx.record.inputBytes = relay.inputBytes;
    ctx.record.outputBytes = relay.outputBytes;
  }
}

/**
 * Serves a UDP BIND: `sock` is bound on the far side; datagrams from any peer reach the
 * client as stream frames tagged with the peer, and the client's frames go to the peer they
 * name. `ok` (the protocol's success reply) is written first.
 */
export async function serveBoundUdp(
  conn: Duplex,
  reader: BufferedReader,
  sock: Deno.DatagramConn,
  ok: Uint8Array,
  ctx: HandlerContext,
): Promise<void> {
  ctx.record.network = "udp";
  const out = writeHalf(conn);
  const write = (b: Uint8Array) => out.write(b);
  let queue = write(ok);
  let input = 0, output = 0;
  const inbound = (async () => {
    const buf = new Uint8Array(65535);
    for (;;) {
      const [data, from] = await sock.receive(buf);
      input += data.length;
      const frame = encodeStreamFrame(encodeSocksAddr(formatAddr(from)), data);
      queue = queue.then(() => write(frame));
      await queue;
    }
  })().catch(() => conn.close());
  const onAbort = () => conn.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await queue;
    for (;;) {
      const f = await readStreamFrame(reader);
      if (!f) break;
      const { host, port } = splitHostPort(f.addr);
      output += f.payload.length;
      await sock.send(f.payload, { transport: "udp", hostname: dialHost(host), port });
    }
  } catch (err) {
    if (!ctx.signal.aborted) ctx.log.debug(`udp bind: ${errorMessage(err)}`);
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    try {
      sock.close();
    } catch {
      // closed
    }
    conn.close();
    await inbound;
    ctx.record.inputBytes = input;
    ctx.record.outputBytes = output;
  }
}
