/**
 * Registers every listener type. One line per protocol; the file of each is `listener/<name>.ts`.
 * @module
 */
import { listeners } from "./registry.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";
import { UdpListener, udpListenerOptions } from "./udp.ts";

listeners.register("tcp", {
  options: tcpListenerOptions,
  create: (init, opts) => new TcpListener(init.addr, opts),
});
listeners.register("udp", {
  options: udpListenerOptions,
  create: (init, opts) => new UdpListener(init.addr, opts),
});

export { listeners };
