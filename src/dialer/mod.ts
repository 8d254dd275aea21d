/**
 * Registers every dialer type. One line per protocol; the file of each is `dialer/<name>.ts`.
 * @module
 */
import { dialers } from "./registry.ts";
import { sshdDialer } from "./sshd.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";

dialers.register("tcp", {
  options: tcpDialerOptions,
  create: (_init, opts) => new TcpDialer(opts.dialTimeout),
});
dialers.register("sshd", sshdDialer);

export { dialers };
