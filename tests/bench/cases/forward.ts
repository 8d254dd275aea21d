/**
 * Plain TCP port forwarding (issue 2): gost-deno and real gost beside socat and haproxy.
 * @module
 */
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
];
