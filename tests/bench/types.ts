/**
 * The shape of a benchmark case: the gost command lines that make one data path, and
 * other programs implementing the same path for side-by-side rows.
 * @module
 */

/** What a case can be measured for. */
export type Measure = "throughput1" | "throughput4" | "reverse" | "connRate" | "idleMemory";

/** One benchmark row group. */
export interface BenchCase {
  /** Row label, e.g. "relay+tls chain". */
  name: string;
  /**
   * argv lists for the gost processes making the path under test. Placeholders: `$ENTRY`
   * (the port clients connect to: a plain TCP entry into the path), `$TARGET` (the port of the
   * target server: iperf3 or echo), `$P1`..`$P9` (free ports). The same argv runs under
   * gost-deno and, when GOST_BIN is set, under the real gost.
   */
  gost: string[][];
  /** Other implementations of the same path (socat, haproxy, ss-local/ss-server, kcptun…). */
  peers?: {
    name: string;
    commands: string[][];
    needs: string[];
    /** Overrides the case's measures (e.g. no idle memory for a peer that forks per connection). */
    measure?: Measure[];
  }[];
  /** Which measurements apply (default: throughput1, throughput4, connRate, idleMemory). */
  measure?: Measure[];
  /** The argv uses gost-deno's own flags (e.g. `-workers`): no real gost row. */
  denoOnly?: boolean;
  /** Deno flags added to the project's own for the gost-deno processes (e.g. `--allow-ffi`). */
  denoFlags?: string[];
}
