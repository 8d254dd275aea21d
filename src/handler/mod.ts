/**
 * Registers every handler type. One line per protocol; the file of each is `handler/<name>.ts`.
 * @module
 */
import { forwardHandler, tcpHandler, udpHandler } from "./forward.ts";
import { handlers } from "./registry.ts";
import { rtcpHandler } from "./rtcp.ts";
import { rudpHandler } from "./rudp.ts";
import { sshdHandler } from "./sshd.ts";
import { relayHandler } from "./relay.ts";
import { socks5Handler } from "./socks5.ts";
import { ssHandler } from "./ss.ts";
import { ssuHandler } from "./ssu.ts";
import { httpHandler } from "./http.ts";
import { socks4Handler } from "./socks4.ts";
import { autoHandler } from "./auto.ts";

handlers.register("tcp", tcpHandler);
handlers.register("udp", udpHandler);
handlers.register("forward", forwardHandler);
handlers.register("relay", relayHandler);
handlers.register("rtcp", rtcpHandler);
handlers.register("rudp", rudpHandler);
handlers.register("sshd", sshdHandler);
handlers.register("socks5", socks5Handler);
handlers.register("socks", socks5Handler);
handlers.register("ss", ssHandler);
handlers.register("ssu", ssuHandler);
handlers.register("http", httpHandler);
handlers.register("socks4", socks4Handler);
handlers.register("socks4a", socks4Handler);
handlers.register("auto", autoHandler);

export { handlers };
