/**
 * The multiplexed channels (issue 17): relay over mtls, mwss, mtcp, h2, h2c and grpc (TLS). Beside relay+tls/relay+wss
 * (tls_ws.ts), their connection rate shows what sharing one session saves: no TLS or WebSocket
 * handshake per connection.
 * @module
 */
import type { BenchCase } from "../types.ts";

const chain = (channel: string): BenchCase => ({
  name: `relay+${channel} chain`,
  gost: [
    ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", `relay+${channel}://127.0.0.1:$P1`],
    ["-L", `relay+${channel}://127.0.0.1:$P1`],
  ],
  measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
});

export const cases: BenchCase[] = [
  ...["mtls", "mwss", "mtcp", "h2", "h2c", "grpc"].map(chain),
  {
    name: "http2 proxy chain",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "http2://127.0.0.1:$P1"],
      ["-L", "http2://127.0.0.1:$P1"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
];
