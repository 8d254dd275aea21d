/**
 * Registers every dialer type. One line per protocol; the file of each is `dialer/<name>.ts`.
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { kcpDialer } from "./kcp.ts";
import { dialers } from "./registry.ts";
import { sshdDialer } from "./sshd.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";
import { tlsDialer } from "./tls.ts";
import { UdpDialer } from "./udp.ts";
import { wsDialer } from "./ws.ts";
import { wssDialer } from "./wss.ts";

dialers.register("tcp", {
  options: tcpDialerOptions,
  create: (_init, opts) => new TcpDialer(opts.dialTimeout),
});
dialers.register("kcp", kcpDialer);
dialers.register("sshd", sshdDialer);
dialers.register("udp", { options: defineOptions({}), create: () => new UdpDialer() });
dialers.register("tls", tlsDialer);
dialers.register("ws", wsDialer);
dialers.register("wss", wssDialer);

export { dialers };
