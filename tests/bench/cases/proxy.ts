/**
 * Proxy protocols and chains (issue 3): an HTTP CONNECT proxy, a SOCKS5 proxy and a two-hop
 * relay chain, each entered through a plain TCP forward. SOCKS5 runs with notls=true on
 * both sides so that real gost does not wrap it in its private TLS method.
 * @module
 */
import type { BenchCase } from "../types.ts";

export const cases: BenchCase[] = [
  {
    name: "http proxy",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "http://127.0.0.1:$P1"],
      ["-L", "http://127.0.0.1:$P1"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  {
    name: "socks5 proxy",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "socks5://127.0.0.1:$P1?notls=true"],
      ["-L", "socks5://127.0.0.1:$P1?notls=true"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  {
    name: "relay chain (2 hops)",
    gost: [
      [
        "-L",
        "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET",
        "-F",
        "relay://127.0.0.1:$P1",
        "-F",
        "relay://127.0.0.1:$P2",
      ],
      ["-L", "relay://127.0.0.1:$P1"],
      ["-L", "relay://127.0.0.1:$P2"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
];
