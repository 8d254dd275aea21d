/**
 * A KCP forward over loopback (issue 5): a TCP entry, a KCP hop with every default (AES,
 * FEC 10/3, snappy, smux v1), forwarded to the target; beside Debian's kcptun pair.
 * @module
 */
import type { BenchCase } from "../types.ts";

/** kcptun with gost's KCP defaults (empty key, AES, FEC 10/3, snappy, mode fast, windows 1024), as kcp_cpu.ts. */
const KCPTUN_AS_GOST = ["--key", "", "--sndwnd", "1024", "--rcvwnd", "1024", "--quiet"];

export const cases: BenchCase[] = [
  {
    name: "kcp forward",
    gost: [
      ["-L", "kcp://127.0.0.1:$P1/127.0.0.1:$TARGET"],
      ["-L", "tcp://127.0.0.1:$ENTRY", "-F", "forward+kcp://127.0.0.1:$P1"],
    ],
    peers: [
      {
        name: "kcptun",
        needs: ["kcptun-server", "kcptun-client"],
        commands: [
          ["kcptun-server", "-l", "127.0.0.1:$P1", "-t", "127.0.0.1:$TARGET", ...KCPTUN_AS_GOST],
          ["kcptun-client", "-l", "127.0.0.1:$ENTRY", "-r", "127.0.0.1:$P1", ...KCPTUN_AS_GOST],
        ],
      },
    ],
    measure: ["throughput1", "reverse", "connRate", "idleMemory"],
  },
];
