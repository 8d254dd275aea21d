/**
 * The `socks4` and `socks4a` connectors: CONNECT only (SOCKS4 has no UDP). `socks4`
 * resolves a host name locally (the protocol carries only IPv4); `socks4a` sends the name.
 * @module
 */
import { isIPv4, joinHostPort, splitHostPort } from "../core/addr.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import { CMD_CONNECT, encodeRequest, Reply, replyText } from "../protocol/socks4/socks4.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const socks4ConnectorOptions = defineOptions({
  connectTimeout: opt.duration(["connectTimeout", "timeout"], 15_000),
});

export type Socks4ConnectorOptions = Options<typeof socks4ConnectorOptions.schema>;

/** Speaks SOCKS4 (or 4a) to a node. */
export class Socks4Connector implements Connector {
  constructor(readonly init: ConnectorInit, readonly opts: Socks4ConnectorOptions, readonly v4a: boolean) {}

  async connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    const node = this.init.nodeAddr;
    const name = this.v4a ? "socks4a" : "socks4";
    if (network === "udp") {
      throw new Error(
        `${name} node ${node} cannot carry UDP (use socks5 with udp=true, relay or http with udp=true)`,
      );
    }
    if (!addr) throw new Error(`${name} node ${node}: a target address is required`);
    let target = addr;
    const { host, port } = splitHostPort(addr);
    if (!this.v4a && !isIPv4(host)) {
      const ips = host === "localhost" ? ["127.0.0.1"] : await Deno.resolveDns(host, "A");
      if (!ips.length) throw new Error(`${name}: ${host} has no IPv4 address`);
      target = joinHostPort(ips[0], port);
    }
    const r = new BufferedReader(conn);
    const run = async () => {
      await writeTo(conn, encodeRequest(CMD_CONNECT, target, this.init.auth?.username ?? ""));
      const rep = await r.readExact(8, `${name} reply`);
      if (rep[1] !== Reply.Granted) throw new Error(`${name} node ${node}: ${replyText(rep[1])} (${addr})`);
    };
    await deadline(run(), this.opts.connectTimeout, `${name} handshake with ${node}`, () => conn.close());
    return r.release();
  }
}

export const socks4Connector: ConnectorFactory = {
  options: socks4ConnectorOptions,
  create: (init: ConnectorInit, opts: Socks4ConnectorOptions) => new Socks4Connector(init, opts, false),
};

export const socks4aConnector: ConnectorFactory = {
  options: socks4ConnectorOptions,
  create: (init: ConnectorInit, opts: Socks4ConnectorOptions) => new Socks4Connector(init, opts, true),
};
