/**
 * The multiplexed channels (issue 17): relay over mtls, mwss, mtcp, h2, h2c and grpc (TLS). Beside relay+tls/relay+wss
 * (tls_ws.ts), their connection rate shows what sharing one session saves: no TLS or WebSocket
 * handshake per connection. quic (its own UDP path) and pht (HTTP long-polling) are other kinds
 * of shared channel; the quic server's certificate is pinned by the client (Deno's QUIC verifies).
 * @module
 */
import { selfSignedCert } from "../../../src/core/tls/selfsigned.ts";
import type { BenchCase } from "../types.ts";

const certDir = Deno.makeTempDirSync({ prefix: "gost-bench-quic-" });
const pair = await selfSignedCert();
Deno.writeTextFileSync(`${certDir}/cert.pem`, pair.cert);
Deno.writeTextFileSync(`${certDir}/key.pem`, pair.key);

/** Streams the quic server allows: the idle-memory row's connections (BENCH_IDLE, 1000) and some over. */
const IDLE_STREAMS = Number(Deno.env.get("BENCH_IDLE") ?? 1000) + 100;

const chain = (channel: string, client = "", server = ""): BenchCase => ({
  name: `relay+${channel} chain`,
  // The server first: a QUIC or pht client does not retry a first dial that finds no server.
  gost: [
    ["-L", `relay+${channel}://127.0.0.1:$P1${server}`],
    ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", `relay+${channel}://127.0.0.1:$P1${client}`],
  ],
  measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
});

export const cases: BenchCase[] = [
  ...["mtls", "mwss", "mtcp", "h2", "h2c", "grpc"].map((c) => chain(c)),
  // maxStreams: quic-go's default of 100 concurrent streams per connection (gost's too) holds the idle-memory
  // row's 101st connection waiting for a stream; the row measures memory per connection, so allow them all.
  chain(
    "quic",
    `?caFile=${certDir}/cert.pem`,
    `?certFile=${certDir}/cert.pem&keyFile=${certDir}/key.pem&maxStreams=${IDLE_STREAMS}`,
  ),
  chain("pht"),
  {
    name: "http2 proxy chain",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "http2://127.0.0.1:$P1"],
      ["-L", "http2://127.0.0.1:$P1"],
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
];
