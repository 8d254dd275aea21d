/**
 * The `relay` handler: GOST's relay protocol server. CONNECT (TCP, or UDP with
 * `LEN(2)+payload` framing), forward mode when the service has targets, and BIND with
 * `bind=true`.
 * @module
 */
import { Authenticator, type Auther } from "../core/auth.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { framedDatagrams, lengthPrefixCodec } from "../core/datagram_stream.ts";
import { dialTarget, hasTargets } from "../chain/forwarder.ts";
import type { Duplex } from "../core/duplex.ts";
import { writeTo } from "../core/duplex.ts";
import { BypassError, errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext, Network } from "../core/types.ts";
import { headOnFirstWrite } from "../protocol/relay/conn.ts";
import {
  CMD_BIND,
  CMD_CONNECT,
  decodeRequest,
  encodeResponse,
  findFeature,
  readMessage,
  RelayError,
  type RelayRequest,
  Status,
  VERSION,
} from "../protocol/relay/relay.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { muxOptions, serveRelayBind } from "./relay_bind.ts";

export const relayHandlerOptions = defineOptions({
  readTimeout: opt.duration("readTimeout", 15_000),
  bind: opt.bool("bind", false),
  nodelay: opt.bool("nodelay", false),
  udpBufferSize: opt.ignored(
    ["udpBufferSize", "udp.bufferSize"],
    "datagrams are relayed whole (up to 64 KiB), not cut to a buffer size",
  ),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
  ...muxOptions,
});

export type RelayHandlerOptions = Options<typeof relayHandlerOptions.schema>;

/** Serves relay requests. */
export class RelayHandler implements Handler {
  readonly #auth?: Auther;
  constructor(readonly init: HandlerInit, readonly opts: RelayHandlerOptions) {
    this.#auth = init.auther ?? Authenticator.from(init.auth);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const reader = new BufferedReader(conn);
    let req: RelayRequest;
    try {
      const msg = await deadline(
        readMessage(reader, "relay request"),
        this.opts.readTimeout,
        "relay request",
        () => conn.close(),
      );
      req = decodeRequest(msg);
    } catch (err) {
      // Malformed features: the request was whole, so the client can read a refusal.
      if (err instanceof RelayError) await refuse(conn, Status.BadRequest);
      throw new Error(`relay: bad request: ${errorMessage(err)}`);
    }
    if (req.version !== VERSION) {
      await refuse(conn, Status.BadRequest);
      throw new Error(`relay: unsupported version ${req.version}`);
    }
    const user = findFeature(req.features, "userAuth");
    if (this.#auth && !(user && this.#auth.check(user.username, user.password))) {
      await refuse(conn, Status.Unauthorized);
      ctx.log.warn(`relay: authentication failed`, { user: user?.username ?? "" });
      throw new Error(`relay: unauthorized${user ? ` user "${user.username}"` : " (no credentials)"}`);
    }
    const network: Network = req.udp || findFeature(req.features, "network")?.network === "udp"
      ? "udp"
      : "tcp";
    ctx.record.network = network;
    const addr = findFeature(req.features, "addr")?.addr ?? "";
    switch (req.cmd) {
      case 0:
      case CMD_CONNECT:
        return await this.#connect(reader, conn, network, addr, ctx);
      case CMD_BIND:
        ctx.record.dst = addr;
        if (!this.opts.bind) {
          await refuse(conn, Status.Forbidden);
          throw new Error(`relay: BIND ${network} ${addr} refused: bind is disabled (set bind=true)`);
        }
        return await serveRelayBind(reader.release(), network, addr, this.init, this.opts, ctx);
      default:
        await refuse(conn, Status.BadRequest);
        throw new Error(`relay: unsupported command 0x${req.cmd.toString(16).padStart(2, "0")}`);
    }
  }

  async #connect(
    reader: BufferedReader,
    conn: Duplex,
    network: Network,
    addr: string,
    ctx: HandlerContext,
  ): Promise<void> {
    const fwd = this.init.forwarder;
    // gost holds the OK (nodelay=false) for the first bytes back. A request that came alone
    // may be from a client that waits for the OK before it sends anything (gost with
    // nodelay=true), and a client-first target would then never speak: answer at once. A
    // request that came with data is from a client that is not waiting: hold it, as gost.
    const okNow = this.opts.nodelay || reader.buffered === 0;
    let target: Duplex;
    try {
      if (!addr && !hasTargets(fwd)) {
        ctx.record.dst = addr;
        await refuse(conn, Status.BadRequest);
        throw new Error("relay: CONNECT without a target address");
      }
      target = await dialTarget(this.init.router, fwd, network, addr, conn, ctx);
    } catch (err) {
      if (err instanceof BypassError) await refuse(conn, Status.Forbidden);
      else if (ctx.record.dst || fwd) await refuse(conn, Status.NetworkUnreachable);
      throw err;
    }
    ctx.log.debug(`${conn.remote} <-> ${ctx.record.dst}`, { network });
    const ok = encodeResponse(Status.OK);
    let client: Duplex;
    if (network === "udp") {
      if (okNow) await writeTo(conn, ok);
      client = framedDatagrams(conn, lengthPrefixCodec, { reader, writePrefix: okNow ? undefined : ok });
    } else {
      client = reader.release();
      if (okNow) await writeTo(client, ok);
      else client = headOnFirstWrite(client, ok);
    }
    await relayRecorded(client, target, ctx);
  }
}

/** Writes a refusal and closes; a peer that is already gone is not an error here. */
async function refuse(conn: Duplex, status: number): Promise<void> {
  try {
    await writeTo(conn, encodeResponse(status));
  } catch {
    // the client left first
  }
  conn.close();
}

export const relayHandler: HandlerFactory = {
  options: relayHandlerOptions,
  create: (init: HandlerInit, opts: RelayHandlerOptions) => new RelayHandler(init, opts),
};
