/**
 * `deno run -A tests/bench/ab.ts`: two bench rows measured interleaved (A B A B …) for
 * connections per second, with the gost process's CPU time per connection — the figure that
 * stays meaningful on a shared, noisy machine where wall-clock rates drift between runs.
 *
 * Environment: BENCH_ROWS (exact case names separated by `;`, default the 1-thread forward and
 * the same with metrics and the API on; `name@/path/to/src/main.ts` runs that row from another
 * checkout, e.g. the code before a change), BENCH_ROUNDS (rounds of every row, default 3),
 * BENCH_MS (length of each 64-parallel run, default 3000).
 * @module
 */
import { allCases } from "./cases/mod.ts";
import { allocPorts, connRate, launch, substitute } from "./main.ts";
import { cpuNs, total } from "./_proc.ts";
import { MAIN, tcpEchoServer } from "../_helpers.ts";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";

const ROWS =
  (Deno.env.get("BENCH_ROWS") ?? "tcp forward, 1 thread;tcp forward, 1 thread, -metrics and -api on")
    .split(";");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const MS = Number(Deno.env.get("BENCH_MS") ?? 3000);

interface Run {
  row: string;
  rate64: number;
  rate1: number;
  /** gost's CPU µs per connection during the 64-parallel run. */
  cpuUs: number;
}

async function once(row: string, echoPort: number): Promise<Run> {
  const [name, main = MAIN] = row.split("@");
  const c = allCases.find((x) => x.name === name);
  if (!c) throw new Error(`no bench case named ${JSON.stringify(name)}`);
  const ports = allocPorts(echoPort);
  const run = await launch(
    c.gost.map((argv) => [Deno.execPath(), "run", ...GOST_RUN_FLAGS, main, ...substitute(argv, ports)]),
    ports.ENTRY,
  );
  try {
    await connRate(ports.ENTRY, 64, 1000); // warm-up: JIT, buffers, series created
    const cpu0 = total(run.pids, cpuNs), t0 = performance.now();
    const rate64 = await connRate(ports.ENTRY, 64, MS);
    const conns = rate64 * (performance.now() - t0) / 1000;
    const cpuUs = (total(run.pids, cpuNs) - cpu0) / 1000 / conns;
    const rate1 = await connRate(ports.ENTRY, 1, MS / 2);
    return { row, rate64, rate1, cpuUs };
  } finally {
    await run.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  using echo = tcpEchoServer();
  const runs: Run[] = [];
  console.log("| run | row | conn/s 64 | conn/s serial | gost CPU µs/conn |");
  console.log("|---|---|---|---|---|");
  for (let i = 0; i < ROUNDS; i++) {
    for (const row of ROWS) {
      const r = await once(row, echo.port);
      runs.push(r);
      console.log(
        `| ${runs.length} | ${row} | ${r.rate64.toFixed(0)} | ${r.rate1.toFixed(0)} | ${
          r.cpuUs.toFixed(1)
        } |`,
      );
    }
  }
  console.log("\n| row | conn/s 64 median (min–max) | conn/s serial median | CPU µs/conn median (min–max) |");
  console.log("|---|---|---|---|");
  const stat = (rs: Run[], k: keyof Omit<Run, "row">, d = 0) => {
    const v = rs.map((r) => r[k]);
    return [median(v), Math.min(...v), Math.max(...v)].map((x) => x.toFixed(d));
  };
  for (const row of ROWS) {
    const rs = runs.filter((r) => r.row === row);
    const [r64, lo64, hi64] = stat(rs, "rate64");
    const [cpu, loC, hiC] = stat(rs, "cpuUs", 1);
    console.log(`| ${row} | ${r64} (${lo64}–${hi64}) | ${stat(rs, "rate1")[0]} | ${cpu} (${loC}–${hiC}) |`);
  }
}

if (import.meta.main) await main();
