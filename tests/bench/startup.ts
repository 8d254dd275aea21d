/**
 * Start-up and footprint: time from launch to an accepting listen port, the CPU the process
 * spent to get there, and resident memory of an idle process with one TCP forward service —
 * gost-deno from source, the compiled binary when `dist/` holds one for this machine, and the
 * real gost when GOST_BIN is set — beside rows that show where Deno's own share lies.
 *
 *   deno run -A tests/bench/startup.ts        (also run at the start of `deno task bench`)
 *
 * Environment: STARTUP_RUNS (launches per row, default 10), GOST_BIN.
 *
 * Rows are measured interleaved (one launch of each in turn), so load from other work on the
 * machine spreads over all of them. CPU (all threads, from /proc/<pid>/task/* /schedstat, in ns)
 * is steadier than wall time on a shared machine. Every Deno row runs with
 * DENO_NO_UPDATE_CHECK=1: `deno run` otherwise checks for a new Deno in the background half a
 * second after start (reading CA certificates, resolving names), which is no part of gost and
 * which the compiled binary does not do. The idle reading is taken one second after the probe
 * connection, which the forward accepts and fails to dial (127.0.0.1:9), as any server would.
 * @module
 */
import { GOST_PERMISSIONS, SOURCE_RUN_FLAGS, V8_FLAGS } from "../../scripts/permissions.ts";
import { binaryName } from "../../scripts/compile.ts";
import { freePort, MAIN } from "../_helpers.ts";
import { cpuNs, rssKB, stopProcesses } from "./_proc.ts";

/** One row's numbers. */
export interface StartupRow {
  impl: string;
  /** Median milliseconds from spawn to the first accepted connection. */
  startMs?: number;
  /** Fastest launch. */
  minMs?: number;
  /** Median CPU milliseconds (all threads) the process had used when the port accepted. */
  cpuMs?: number;
  /** Median resident memory (KiB) one second after start, idle, one service. */
  idleRssKB?: number;
  note?: string;
}

interface Launch {
  ms: number;
  cpuMs?: number;
  rssKB?: number;
}

interface Impl {
  name: string;
  argvFor: (port: number) => string[];
  env?: Record<string, string>;
}

/** Launches once; resolves with ms until the port accepted, CPU used by then, and idle RSS. */
async function launchOnce(impl: Impl): Promise<Launch> {
  const port = freePort();
  const argv = impl.argvFor(port);
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: impl.env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (;;) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
        break;
      } catch {
        if (performance.now() - started > 20_000) {
          throw new Error(`port ${port} never opened: ${argv.join(" ")}`);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    const ms = performance.now() - started;
    const cpu = cpuNs(child.pid);
    await new Promise((r) => setTimeout(r, 1000));
    return { ms, cpuMs: cpu === undefined ? undefined : cpu / 1e6, rssKB: rssKB(child.pid) };
  } finally {
    await stopProcesses([child]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Measures every row, interleaved: `runs` rounds of one launch per row (after one warm-up round). */
async function measureAll(impls: Impl[], runs: number): Promise<StartupRow[]> {
  const samples = impls.map(() => [] as Launch[]);
  const notes: (string | undefined)[] = impls.map(() => undefined);
  for (let round = -1; round < runs; round++) {
    for (const [i, impl] of impls.entries()) {
      if (notes[i]) continue;
      try {
        // Round -1 warms the OS file cache and Deno's module and code caches.
        const r = await launchOnce(impl);
        if (round >= 0) samples[i].push(r);
      } catch (err) {
        notes[i] = (err as Error).message.slice(0, 120);
      }
    }
  }
  return impls.map((impl, i) => {
    const s = samples[i];
    const row: StartupRow = { impl: impl.name, note: notes[i] };
    if (!s.length) return row;
    row.startMs = median(s.map((x) => x.ms));
    row.minMs = Math.min(...s.map((x) => x.ms));
    const cpu = s.flatMap((x) => x.cpuMs === undefined ? [] : [x.cpuMs]);
    if (cpu.length) row.cpuMs = median(cpu);
    const rss = s.flatMap((x) => x.rssKB === undefined ? [] : [x.rssKB]);
    if (rss.length) row.idleRssKB = median(rss);
    return row;
  });
}

/** Writes a Deno program to a temp file; returns its path. */
async function tempProgram(source: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(path, source);
  return path;
}

const LISTENER = `const l = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0]) });\n`;
const ACCEPT = `for await (const c of l) c.close();\n`;

/** Measures every available row; prints a table and returns the rows. */
export async function startupBench(runs = Number(Deno.env.get("STARTUP_RUNS") ?? 10)): Promise<StartupRow[]> {
  const target = "127.0.0.1:9"; // the probe connection's dial fails at once: nothing listens there
  const args = (port: number) => ["-L", `tcp://127.0.0.1:${port}/${target}`];
  const deno = Deno.execPath();
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const env = { DENO_NO_UPDATE_CHECK: "1" };
  // The runtime's floor: a Deno program that only listens, for scale.
  const floor = await tempProgram(LISTENER + ACCEPT);
  // The same plus one timer: since Deno 2.x the global setTimeout is Node's, and its first use
  // loads part of Deno's Node layer. gost-deno's first connection (a dial deadline) pays this.
  const floorTimer = await tempProgram(LISTENER + "setTimeout(() => {}, 1);\n" + ACCEPT);
  // Every row that loads modules Deno code-caches runs with the same V8 flags: V8 rejects a
  // code cache made under other flags, so rows with different flags would keep evicting
  // each other's entries and all measure cold compiles.
  const gostFlags = [...V8_FLAGS, ...GOST_PERMISSIONS];
  const impls: Impl[] = [
    {
      name: "gost-deno (deno task gost)",
      argvFor: (p) => [deno, "run", ...SOURCE_RUN_FLAGS, ...gostFlags, MAIN, ...args(p)],
      env,
    },
    {
      name: "gost-deno without lazy imports",
      argvFor: (p) => [deno, "run", ...gostFlags, MAIN, ...args(p)],
      env,
    },
    {
      name: "deno floor: bare listener",
      argvFor: (p) => [deno, "run", "--no-config", "--allow-net", floor, String(p)],
      env,
    },
    {
      name: "deno floor: gost's flags and deno.json",
      argvFor: (
        p,
      ) => [deno, "run", `--config=${config}`, ...SOURCE_RUN_FLAGS, ...gostFlags, floor, String(p)],
      env,
    },
    {
      name: "deno floor + one setTimeout",
      argvFor: (
        p,
      ) => [deno, "run", `--config=${config}`, ...SOURCE_RUN_FLAGS, ...gostFlags, floorTimer, String(p)],
      env,
    },
  ];
  const compiled = binaryName(Deno.build.target);
  try {
    Deno.statSync(compiled);
    impls.push({ name: "gost-deno (compiled)", argvFor: (p) => [compiled, ...args(p)] });
  } catch {
    // no compiled binary for this machine in dist/
  }
  const gostBin = Deno.env.get("GOST_BIN");
  if (gostBin) impls.push({ name: "gost", argvFor: (p) => [gostBin, ...args(p)] });

  let rows: StartupRow[];
  try {
    rows = await measureAll(impls, runs);
  } finally {
    await Deno.remove(floor);
    await Deno.remove(floorTimer);
  }
  const gost = rows.find((r) => r.impl === "gost");
  const vs = (r: StartupRow, a?: number, b?: number) =>
    r !== gost && a !== undefined && b ? ` (${(a / b).toFixed(2)}× gost)` : "";
  const fixed = (x: number | undefined, digits: number) => x?.toFixed(digits) ?? "–";
  console.log(
    `\nstart-up: launch → port accepting (median of ${runs}, interleaved), CPU used by then, ` +
      `idle RSS 1 s later with one tcp forward service`,
  );
  console.log("| impl | start-up ms (median) | fastest ms | CPU ms to listen | idle RSS MiB |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    const rss = r.idleRssKB !== undefined ? r.idleRssKB / 1024 : undefined;
    console.log(
      `| ${r.impl} | ${fixed(r.startMs, 0)}${vs(r, r.startMs, gost?.startMs)} | ${fixed(r.minMs, 0)} | ` +
        `${fixed(r.cpuMs, 1)}${vs(r, r.cpuMs, gost?.cpuMs)} | ` +
        `${fixed(rss, 1)}${vs(r, r.idleRssKB, gost?.idleRssKB)} |${r.note ? ` ${r.note}` : ""}`,
    );
  }
  if (!gostBin) console.log("(real gost row skipped: set GOST_BIN=/path/to/gost to include it)");
  if (!impls.some((i) => i.name.includes("compiled"))) {
    console.log(`(compiled row skipped: no ${compiled}; build it with deno task compile --host)`);
  }
  return rows;
}

if (import.meta.main) await startupBench();
