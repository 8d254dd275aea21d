/**
 * Plain TCP port forwarding (issue 2): gost-deno and real gost beside socat and haproxy,
 * gost-deno with one and with two threads sharing the port (`-workers`), under a traffic
 * limiter set above the link speed, without the FFI grant (the read loop instead of splice), and
 * with Prometheus metrics and the Web API on (limiter, metrics and API serve on one thread: compare
 * them with the 1-thread row).
 * @module
 */
import { NO_FFI_FLAGS } from "../../../scripts/permissions.ts";
import type { BenchCase } from "../types.ts";

export const cases: BenchCase[] = [
  {
    name: "tcp forward",
    gost: [["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET"]],
    peers: [
      {
        name: "socat",
        needs: ["socat"],
        commands: [[
          "socat",
          "-b262144",
          "TCP-LISTEN:$ENTRY,bind=127.0.0.1,reuseaddr,fork",
          "TCP:127.0.0.1:$TARGET",
        ]],
        // socat forks a process per connection: its parent's memory says nothing per connection.
        measure: ["throughput1", "throughput4", "reverse", "connRate"],
      },
      { name: "haproxy", needs: ["haproxy"], commands: [["haproxy", "-f", "$HAPROXY_CFG"]] },
    ],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  // The same forward with the thread count fixed (the row above runs the default, `auto`).
  ...[1, 2].map((n): BenchCase => ({
    name: `tcp forward, ${n} thread${n > 1 ? "s" : ""}`,
    gost: [["-workers", String(n), "-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET"]],
    denoOnly: true,
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  })),
  // The same without the FFI grant: bulk bytes go through the read loop instead of splice(2) in the
  // kernel (src/core/splice.ts), as on a system without libc at a listed path.
  {
    name: "tcp forward, 1 thread, no FFI (read loop)",
    gost: [["-workers", "1", "-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET"]],
    denoFlags: NO_FFI_FLAGS,
    denoOnly: true,
    measure: ["throughput1", "throughput4", "reverse"],
  },
  // A traffic limiter far above the link speed costs only its accounting: compare with the
  // no-FFI row (a limited connection keeps the read loop, and a service with a limiter stays on
  // the main thread).
  {
    name: "tcp forward, 1 thread, limiter above link speed",
    gost: [[
      "-L",
      "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET?limiter.in=100GB&limiter.out=100GB&limiter.conn.in=100GB&limiter.conn.out=100GB",
    ]],
    measure: ["throughput1", "throughput4", "reverse", "connRate"],
  },
  // Counting every connection (src/metrics/gost.ts): what it costs per byte and per connection.
  {
    name: "tcp forward, 1 thread, -metrics on",
    gost: [["-metrics", "127.0.0.1:$P1", "-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET"]],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
  // The same with the Web API serving beside it: what both cost per byte and per connection (issue 18
  // asks for within 3% of the 1-thread row).
  {
    name: "tcp forward, 1 thread, -metrics and -api on",
    gost: [[
      "-metrics",
      "127.0.0.1:$P1",
      "-api",
      "127.0.0.1:$P2",
      "-L",
      "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET",
    ]],
    measure: ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"],
  },
];
