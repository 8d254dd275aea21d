/**
 * The `sshd` connector: standard SSH port forwarding through the node's shared connection
 * (see the `sshd` dialer). `connect` opens a `direct-tcpip` channel, `bind` asks for a
 * `tcpip-forward` (what rtcp services use). SSH forwards TCP only.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions } from "../core/options.ts";
import type { Connector, Listener, Network } from "../core/types.ts";
import { SshSessionHandle } from "../protocol/ssh/client.ts";
import type { ConnectorFactory } from "./registry.ts";

function sessionOf(conn: Duplex, nodeAddr: string) {
  if (!(conn instanceof SshSessionHandle)) {
    throw new Error(`node ${nodeAddr}: the sshd connector needs the sshd dialer (use sshd://host:port)`);
  }
  return conn.session;
}

function tcpOnly(network: Network, nodeAddr: string, what: string): void {
  if (network !== "tcp") {
    throw new Error(
      `node ${nodeAddr}: an sshd node cannot carry UDP (SSH ${what} is TCP only); use a relay, socks5 or ssu node for UDP`,
    );
  }
}

/** Opens channels on the node's SSH connection. */
export class SshdConnector implements Connector {
  constructor(readonly nodeAddr: string) {}

  async connect(conn: Duplex, network: Network, addr: string): Promise<Duplex> {
    tcpOnly(network, this.nodeAddr, "port forwarding");
    if (addr === "") throw new Error(`node ${this.nodeAddr}: an sshd node needs a target address`);
    return await sessionOf(conn, this.nodeAddr).forwardOut(addr);
  }

  async bind(conn: Duplex, network: Network, addr: string): Promise<Listener> {
    tcpOnly(network, this.nodeAddr, "remote forwarding");
    return await sessionOf(conn, this.nodeAddr).forwardIn(addr);
  }
}

export const sshdConnector: ConnectorFactory = {
  options: defineOptions({}),
  create: (init) => new SshdConnector(init.nodeAddr),
};
