/**
 * `deno run -A tests/bench/ab.ts`: two bench rows measured interleaved (A B A B …) for
 * connections per second, with the gost process's CPU time per connection — the figure that
 * stays meaningful on a shared, noisy machine where wall-clock rates drift between runs.
 *
 * Environment: BENCH_ROWS (exact case names separated by `;`, default the 1-thread forward and
 * the same with metrics and the API on; `name@/path/to/src/main.ts` runs that row from another
 * checkout, e.g. the code before a change; `name!--flag,--flag` adds V8 flags to that row's gost
 * processes, e.g. `!--optimize-for-size`), BENCH_ROUNDS (rounds of every row, default 3),
 * BENCH_MS (length of each 64-parallel run, default 3000), BENCH_IPERF=1 (a 1-stream iperf3 run
 * per row too, BENCH_SECONDS long).
 *
 * BENCH_PAIRED=1 runs every row at once instead, each client connection going to the next row in
 * turn, for BENCH_ROUNDS windows: all rows then see the same load and the same neighbours at the
 * same moment, so the ratio of their CPU per connection holds still even when the machine's
 * other work makes wall-clock rates swing by 2× from one run to the next. BENCH_PARALLEL sets how
 * many clients run at once there (default 64); with 1, connections go one at a time, A B A B …, and
 * each row's mean time per connection (its serial rate's inverse) is paired the same way, beside
 * its CPU per connection split by process (the first process, then the others).
 * @module
 */
import { allCases } from "./cases/mod.ts";
import { allocPorts, connRate, iperf, launch, startIperfServer, substitute } from "./main.ts";
import { deadline } from "../../src/core/timeout.ts";
import { cpuNs, total } from "./_proc.ts";
import { MAIN, tcpEchoServer } from "../_helpers.ts";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";

const ROWS =
  (Deno.env.get("BENCH_ROWS") ?? "tcp forward, 1 thread;tcp forward, 1 thread, -metrics and -api on")
    .split(";");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const MS = Number(Deno.env.get("BENCH_MS") ?? 3000);
const IPERF = Deno.env.get("BENCH_IPERF") === "1";
const PARALLEL = Number(Deno.env.get("BENCH_PARALLEL") ?? 64);

interface Run {
  row: string;
  rate64: number;
  rate1: number;
  /** gost's CPU µs per connection during the 64-parallel run. */
  cpuUs: number;
  /** One iperf3 stream through the row, Gbit/s (BENCH_IPERF=1). */
  gbit?: number;
}

async function once(row: string, echoPort: number): Promise<Run> {
  const run = await start(row, echoPort);
  const ports = { ENTRY: run.entry };
  try {
    await connRate(ports.ENTRY, 64, 1000); // warm-up: JIT, buffers, series created
    const cpu0 = total(run.pids, cpuNs), t0 = performance.now();
    const rate64 = await connRate(ports.ENTRY, 64, MS);
    const conns = rate64 * (performance.now() - t0) / 1000;
    const cpuUs = (total(run.pids, cpuNs) - cpu0) / 1000 / conns;
    const rate1 = await connRate(ports.ENTRY, 1, MS / 2);
    return { row, rate64, rate1, cpuUs, gbit: IPERF ? await throughput(row) : undefined };
  } finally {
    await run.stop();
  }
}

/** One iperf3 stream through the row (its own gost, forwarding to a fresh iperf3 server). */
async function throughput(row: string): Promise<number> {
  const server = await startIperfServer();
  try {
    const run = await start(row, server.port);
    try {
      return await iperf(run.entry);
    } finally {
      await run.stop();
    }
  } finally {
    await server.stop();
  }
}

async function start(row: string, echoPort: number) {
  const [spec, v8 = ""] = row.split("!");
  const [name, main = MAIN] = spec.split("@");
  const c = allCases.find((x) => x.name === name);
  if (!c) throw new Error(`no bench case named ${JSON.stringify(name)}`);
  const ports = allocPorts(echoPort);
  const run = await launch(
    c.gost.map((argv) => [Deno.execPath(), "run", ...withV8Flags(v8), main, ...substitute(argv, ports)]),
    ports.ENTRY,
  );
  return { ...run, entry: ports.ENTRY };
}

/** The project's run flags with `extra` (comma-separated V8 flags) added to its `--v8-flags`. */
function withV8Flags(extra: string): string[] {
  if (!extra) return GOST_RUN_FLAGS;
  return GOST_RUN_FLAGS.map((f) => f.startsWith("--v8-flags=") ? `${f},${extra}` : f);
}

/**
 * Short connections (1 byte echoed) from `parallel` clients, each going to the next port in turn;
 * per port, the connections completed and the milliseconds they took in all.
 */
async function alternate(
  ports: number[],
  parallel: number,
  ms: number,
): Promise<{ counts: number[]; ms: number[] }> {
  const counts = ports.map(() => 0);
  const took = ports.map(() => 0);
  const end = performance.now() + ms;
  const worker = async (w: number) => {
    const buf = new Uint8Array(1);
    for (let i = w; performance.now() < end; i++) {
      const k = i % ports.length;
      const t0 = performance.now();
      const c = await deadline(Deno.connect({ hostname: "127.0.0.1", port: ports[k] }), 10_000, "connect");
      try {
        await c.write(buf);
        if (await deadline(c.read(buf), 10_000, "echo") === 1) counts[k]++;
      } finally {
        c.close();
      }
      took[k] += performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, w) => worker(w)));
  return { counts, ms: took };
}

async function paired(echoPort: number) {
  const runs = [];
  try {
    for (const row of ROWS) runs.push(await start(row, echoPort));
    const ports = runs.map((r) => r.entry);
    await alternate(ports, PARALLEL, 1000); // warm-up: JIT, buffers, series created
    const cpu: number[][] = ROWS.map(() => []);
    /** Per row and window: CPU µs per connection of each process; ms per connection (serial only). */
    const split: number[][][] = ROWS.map(() => []);
    const lat: number[][] = ROWS.map(() => []);
    const serial = PARALLEL === 1;
    console.log(`| window | conn/s (all rows) | ${ROWS.map((r) => `${r} CPU µs/conn`).join(" | ")} |`);
    console.log(`|---|---|${ROWS.map(() => "---").join("|")}|`);
    for (let w = 0; w < ROUNDS; w++) {
      const cpu0 = runs.map((r) => r.pids.map((p) => cpuNs(p) ?? 0)), t0 = performance.now();
      const { counts, ms } = await alternate(ports, PARALLEL, MS);
      const secs = (performance.now() - t0) / 1000;
      runs.forEach((r, i) => {
        const each = r.pids.map((p, j) => ((cpuNs(p) ?? 0) - cpu0[i][j]) / 1000 / counts[i]);
        split[i].push(each);
        cpu[i].push(each.reduce((a, b) => a + b, 0));
        lat[i].push(ms[i] / counts[i]);
      });
      const all = counts.reduce((a, b) => a + b, 0) / secs;
      console.log(`| ${w + 1} | ${all.toFixed(0)} | ${cpu.map((c) => c[w].toFixed(1)).join(" | ")} |`);
    }
    const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
    const spread = (v: number[], d = 1) =>
      `${median(v).toFixed(d)} (${Math.min(...v).toFixed(d)}–${Math.max(...v).toFixed(d)})`;
    const vsFirst = (m: number[][], i: number) => {
      const ratio = m[i].map((v, w) => v / m[0][w] - 1);
      return `${pct(median(ratio))} (${pct(Math.min(...ratio))} – ${pct(Math.max(...ratio))})`;
    };
    console.log(`\n| row | CPU µs/conn median (min–max) | vs first row, per window: median (min–max) |`);
    console.log("|---|---|---|");
    ROWS.forEach((row, i) => console.log(`| ${row} | ${spread(cpu[i])} | ${vsFirst(cpu, i)} |`));
    if (serial) {
      console.log(
        `\n| row | ms/conn median (min–max) | vs first row | CPU µs/conn of each process (medians) |`,
      );
      console.log("|---|---|---|---|");
      ROWS.forEach((row, i) => {
        const procs = split[i][0].map((_, j) => median(split[i].map((s) => s[j])).toFixed(0)).join(" / ");
        console.log(`| ${row} | ${spread(lat[i], 3)} | ${vsFirst(lat, i)} | ${procs} |`);
      });
    }
  } finally {
    for (const r of runs) await r.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  using echo = tcpEchoServer();
  if (Deno.env.get("BENCH_PAIRED") === "1") return await paired(echo.port);
  const runs: Run[] = [];
  console.log("| run | row | conn/s 64 | conn/s serial | gost CPU µs/conn | 1 stream Gbit/s |");
  console.log("|---|---|---|---|---|---|");
  for (let i = 0; i < ROUNDS; i++) {
    for (const row of ROWS) {
      const r = await once(row, echo.port);
      runs.push(r);
      console.log(
        `| ${runs.length} | ${row} | ${r.rate64.toFixed(0)} | ${r.rate1.toFixed(0)} | ${
          r.cpuUs.toFixed(1)
        } | ${r.gbit?.toFixed(2) ?? "–"} |`,
      );
    }
  }
  console.log(
    "\n| row | conn/s 64 median (min–max) | conn/s serial median | CPU µs/conn median (min–max) | Gbit/s median (min–max) |",
  );
  console.log("|---|---|---|---|---|");
  const stat = (rs: Run[], k: keyof Omit<Run, "row">, d = 0) => {
    const v = rs.map((r) => r[k] ?? NaN);
    return [median(v), Math.min(...v), Math.max(...v)].map((x) => x.toFixed(d));
  };
  for (const row of ROWS) {
    const rs = runs.filter((r) => r.row === row);
    const [r64, lo64, hi64] = stat(rs, "rate64");
    const [cpu, loC, hiC] = stat(rs, "cpuUs", 1);
    const [g, loG, hiG] = stat(rs, "gbit", 2);
    console.log(
      `| ${row} | ${r64} (${lo64}–${hi64}) | ${
        stat(rs, "rate1")[0]
      } | ${cpu} (${loC}–${hiC}) | ${g} (${loG}–${hiG}) |`,
    );
  }
}

if (import.meta.main) await main();
