/**
 * The `rudp` listener (remote UDP port forwarding): like `rtcp` (see there for re-binding),
 * for datagrams. Each peer is one datagram session, closed after `ttl` without traffic.
 * Without a chain it is a local UDP listener; with one, the far node's UDP BIND.
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import type { ListenerFactory } from "./registry.ts";
import { RemoteForwardListener } from "./rtcp.ts";

export const rudpListenerOptions = defineOptions({
  ttl: opt.duration(["ttl", "keepalive.ttl"], 5_000),
  readBufferSize: opt.int(["readBufferSize", "udp.bufferSize", "bufferSize"], 8192, { min: 512, max: 65536 }),
  readQueueSize: opt.int(["readQueueSize", "recvQueueSize"], 1024, { min: 1, max: 65536 }),
  backlog: opt.int("backlog", 128, { min: 1, max: 65536 }),
  bindTimeout: opt.duration(["bindTimeout", "timeout"], 15_000),
});

export const rudpListener: ListenerFactory = {
  options: rudpListenerOptions,
  create: (init, o) =>
    new RemoteForwardListener("udp", init.addr, init.router, init.log, {
      ttl: o.ttl,
      readBufferSize: o.readBufferSize,
      readQueueSize: o.readQueueSize,
      backlog: o.backlog,
    }, o.bindTimeout),
};
