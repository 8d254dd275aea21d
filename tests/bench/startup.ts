/**
 * Start-up and footprint: time from launch to an accepting listen port, and resident memory
 * of an idle process with one TCP forward service — gost-deno from source, the compiled
 * binary when `dist/` holds one for this machine, and the real gost when GOST_BIN is set.
 *
 *   deno run -A tests/bench/startup.ts        (also run at the start of `deno task bench`)
 *
 * Environment: STARTUP_RUNS (launches per implementation, default 10), GOST_BIN.
 * @module
 */
import { GOST_PERMISSIONS } from "../../scripts/permissions.ts";
import { binaryName } from "../../scripts/compile.ts";
import { freePort, MAIN } from "../_helpers.ts";
import { rssKB, stopProcesses } from "./_proc.ts";

/** One implementation's numbers. */
export interface StartupRow {
  impl: string;
  /** Median milliseconds from spawn to the first accepted connection. */
  startMs?: number;
  /** Fastest launch. */
  minMs?: number;
  /** Resident memory (KiB) one second after start, idle, one service. */
  idleRssKB?: number;
  note?: string;
}

/** Launches `argv` once; resolves with ms until the port accepted, and the idle RSS when asked. */
async function launchOnce(
  argvFor: (port: number) => string[],
  withRss: boolean,
): Promise<{ ms: number; rss?: number }> {
  const port = freePort();
  const argv = argvFor(port);
  const started = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
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
    let rss: number | undefined;
    if (withRss) {
      await new Promise((r) => setTimeout(r, 1000));
      rss = rssKB(child.pid);
    }
    return { ms, rss };
  } finally {
    await stopProcesses([child]);
  }
}

async function measure(impl: string, argvFor: (port: number) => string[], runs: number): Promise<StartupRow> {
  const row: StartupRow = { impl };
  try {
    // One unmeasured launch warms the OS file cache (and Deno's module cache).
    await launchOnce(argvFor, false);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await launchOnce(argvFor, i === 0);
      times.push(r.ms);
      if (r.rss !== undefined) row.idleRssKB = r.rss;
    }
    times.sort((a, b) => a - b);
    row.startMs = times[Math.floor(times.length / 2)];
    row.minMs = times[0];
  } catch (err) {
    row.note = (err as Error).message.slice(0, 120);
  }
  return row;
}

/** Measures every available implementation; prints a table and returns the rows. */
export async function startupBench(runs = Number(Deno.env.get("STARTUP_RUNS") ?? 10)): Promise<StartupRow[]> {
  const target = "127.0.0.1:9"; // never dialled: nothing connects through the forward
  const args = (port: number) => ["-L", `tcp://127.0.0.1:${port}/${target}`];
  const impls: [string, (port: number) => string[]][] = [
    ["gost-deno (deno run)", (p) => [Deno.execPath(), "run", ...GOST_PERMISSIONS, MAIN, ...args(p)]],
  ];
  // The runtime's floor: a Deno program that only listens, for scale.
  const floor = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    floor,
    `const l = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0]) });\nfor await (const c of l) c.close();\n`,
  );
  impls.push([
    "deno floor (bare listener)",
    (p) => [Deno.execPath(), "run", "--allow-net", floor, String(p)],
  ]);
  const compiled = binaryName(Deno.build.target);
  try {
    Deno.statSync(compiled);
    impls.push(["gost-deno (compiled)", (p) => [compiled, ...args(p)]]);
  } catch {
    // no compiled binary for this machine in dist/
  }
  const gostBin = Deno.env.get("GOST_BIN");
  if (gostBin) impls.push(["gost", (p) => [gostBin, ...args(p)]]);

  const rows: StartupRow[] = [];
  try {
    for (const [name, argvFor] of impls) rows.push(await measure(name, argvFor, runs));
  } finally {
    await Deno.remove(floor);
  }
  const gost = rows.find((r) => r.impl === "gost");
  const vs = (a?: number, b?: number) => (a !== undefined && b ? ` (${(a / b).toFixed(2)}× gost)` : "");
  console.log(
    `\nstart-up: launch → port accepting (median of ${runs}), idle RSS with one tcp forward service`,
  );
  console.log("| impl | start-up ms (median) | fastest ms | idle RSS MiB |");
  console.log("|---|---|---|---|");
  for (const r of rows) {
    const rss = r.idleRssKB !== undefined ? r.idleRssKB / 1024 : undefined;
    console.log(
      `| ${r.impl} | ${r.startMs?.toFixed(0) ?? "–"}${
        r.impl === "gost" ? "" : vs(r.startMs, gost?.startMs)
      } | ` +
        `${r.minMs?.toFixed(0) ?? "–"} | ${rss?.toFixed(1) ?? "–"}${
          r.impl === "gost" ? "" : vs(r.idleRssKB, gost?.idleRssKB)
        } |${r.note ? ` ${r.note}` : ""}`,
    );
  }
  if (!gostBin) console.log("(real gost row skipped: set GOST_BIN=/path/to/gost to include it)");
  if (!impls.some(([n]) => n.includes("compiled"))) {
    console.log(`(compiled row skipped: no ${compiled}; build it with deno task compile --host)`);
  }
  return rows;
}

if (import.meta.main) await startupBench();
