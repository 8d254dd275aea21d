/**
 * TLS and WebSocket data channels (issue 4): relay over tls and wss, and the bare channels
 * (forward over tls and ws), beside direct loopback and real gost.
 * @module
 */
import type { BenchCase } from "../types.ts";

export const cases: BenchCase[] = [
  {
    name: "relay+tls chain",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "relay+tls://127.0.0.1:$P1"],
      ["-L", "relay+tls://127.0.0.1:$P1"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  {
    name: "relay+wss chain",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "relay+wss://127.0.0.1:$P1"],
      ["-L", "relay+wss://127.0.0.1:$P1"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  {
    name: "forward+tls channel",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY", "-F", "forward+tls://127.0.0.1:$P1"],
      ["-L", "tls://127.0.0.1:$P1/127.0.0.1:$TARGET"],
    ],
    measure: ["throughput1", "reverse", "connRate"],
  },
  {
    name: "forward+ws channel",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY", "-F", "forward+ws://127.0.0.1:$P1"],
      ["-L", "ws://127.0.0.1:$P1/127.0.0.1:$TARGET"],
    ],
    measure: ["throughput1", "reverse", "connRate"],
  },
];
