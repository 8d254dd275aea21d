/**
 * Registers every listener type. One line per protocol; the file of each is `listener/<name>.ts`.
 * @module
 */
import { kcpListener } from "./kcp.ts";
import { listeners } from "./registry.ts";
import { rtcpListener } from "./rtcp.ts";
import { rudpListener } from "./rudp.ts";
import { createSshdListener, sshdListenerOptions } from "./sshd.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";
import { tlsListener } from "./tls.ts";
import { UdpListener, udpListenerOptions } from "./udp.ts";
import { wsListener } from "./ws.ts";
import { wssListener } from "./wss.ts";

listeners.register("tcp", {
  options: tcpListenerOptions,
  create: (init, opts) => new TcpListener(init.addr, opts),
});
listeners.register("udp", {
  options: udpListenerOptions,
  create: (init, opts) => new UdpListener(init.addr, opts),
});
listeners.register("kcp", kcpListener);
listeners.register("rtcp", rtcpListener);
listeners.register("rudp", rudpListener);
listeners.register("sshd", { options: sshdListenerOptions, create: createSshdListener });
listeners.register("tls", tlsListener);
listeners.register("ws", wsListener);
listeners.register("wss", wssListener);

export { listeners };
