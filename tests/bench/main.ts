/**
 * `deno task bench`: every data path measured side by side in one run — direct loopback,
 * gost-deno, the real gost when GOST_BIN names one, and peers such as socat and haproxy —
 * printed as a table of absolute numbers and ratios.
 *
 * Environment: GOST_BIN (path of a real gost 3 binary), BENCH_SECONDS (iperf3 run length,
 * default 5), BENCH_FILTER (substring of case names to run), BENCH_IDLE (idle connections
 * for the memory row, default 1000).
 * @module
 */
import { allCases } from "./cases/mod.ts";
import { deadline } from "../../src/core/timeout.ts";
import type { BenchCase, Measure } from "./types.ts";
import { freePort, MAIN, tcpEchoServer, which } from "../_helpers.ts";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";
import { startupBench } from "./startup.ts";
import { cpuTicks, rssKB, stopProcesses, total } from "./_proc.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const FILTER = Deno.env.get("BENCH_FILTER") ?? "";
const IDLE = Number(Deno.env.get("BENCH_IDLE") ?? 1000);
const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";
/** A connection that makes no progress for this long fails the measurement (with a note) instead of hanging it. */
const STALL_MS = 10_000;
const DEFAULT_MEASURES: Measure[] = ["throughput1", "throughput4", "connRate", "idleMemory"];

/** One measured row. */
interface Row {
  case: string;
  impl: string;
  throughput1?: number;
  throughput4?: number;
  reverse?: number;
  cpu1?: number;
  connRate1?: number;
  connRate64?: number;
  idleKB?: number;
  note?: string;
}

type Ports = Record<string, number>;

export function substitute(argv: string[], ports: Ports, extra: Record<string, string> = {}): string[] {
  return argv.map((a) =>
    a.replace(/\$(ENTRY|TARGET|P\d|HAPROXY_CFG)/g, (m, k) => (k in extra ? extra[k] : String(ports[k] ?? m)))
  );
}

export function allocPorts(target: number): Ports {
  const p: Ports = { ENTRY: freePort(), TARGET: target };
  for (let i = 1; i <= 9; i++) p[`P${i}`] = freePort();
  return p;
}

/** Spawns one implementation's processes; resolves once the entry port accepts. */
export async function launch(
  commands: string[][],
  entry: number,
): Promise<{ pids: number[]; stop(): Promise<void> }> {
  const children = commands.map((argv) =>
    new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null", stdin: "null" }).spawn()
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: entry });
      c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        for (const c of children) c.kill("SIGKILL");
        throw new Error(
          `entry port ${entry} never opened for: ${commands.map((c) => c.join(" ")).join(" | ")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Give every process of a multi-process path time to listen too.
  await new Promise((r) => setTimeout(r, 300));
  return {
    pids: children.map((c) => c.pid),
    stop: () => stopProcesses(children),
  };
}

/** An iperf3 server on a free port. */
export async function startIperfServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command("iperf3", {
    args: ["-s", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  // Not probed: iperf3 treats a connection without its cookie as a failed test.
  await new Promise((r) => setTimeout(r, 300));
  return { port, stop: () => stopProcesses([child]) };
}

/** iperf3 client run; returns Gbit/s received. */
export async function iperf(port: number, args: string[] = []): Promise<number> {
  // iperf3 has no overall timeout: a path that stops moving bytes would hang the whole run.
  const limitMs = SECONDS * 1000 + STALL_MS;
  const out = await new Deno.Command("iperf3", {
    args: ["-c", "127.0.0.1", "-p", String(port), "-t", String(SECONDS), "-J", ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  if (out.signal) throw new Error(`iperf3 ${args.join(" ")} stalled: no result within ${limitMs / 1000} s`);
  const text = new TextDecoder().decode(out.stdout);
  try {
    const j = JSON.parse(text);
    if (j.error) throw new Error(j.error);
    return j.end.sum_received.bits_per_second / 1e9;
  } catch (err) {
    throw new Error(`iperf3 failed: ${(err as Error).message}`);
  }
}

/** Connections made, and not counted, before a row's connection rates are measured. */
const WARM_UP_MS = 1000;

/** Short connections per second: connect, 1 byte echo, close; `parallel` at a time, for `ms`. */
export async function connRate(port: number, parallel: number, ms = 3000): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  const one = new Uint8Array([42]);
  const worker = async () => {
    const buf = new Uint8Array(1);
    while (performance.now() < end) {
      const c = await deadline(Deno.connect({ hostname: "127.0.0.1", port }), STALL_MS, "connect");
      let closed = false;
      const close = () => {
        if (!closed) c.close();
        closed = true;
      };
      try {
        await c.write(one);
        // A stall closes the connection and fails the measurement with its own message.
        const n = await deadline(c.read(buf), STALL_MS, "echo through the path", close);
        if (n === 1) done++;
      } finally {
        close();
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** KB of resident memory per idle forwarded connection. */
async function idleMemory(port: number, pids: number[]): Promise<number> {
  const before = total(pids, rssKB);
  const conns: Deno.Conn[] = [];
  const buf = new Uint8Array(1);
  try {
    for (let i = 0; i < IDLE; i++) {
      const c = await deadline(Deno.connect({ hostname: "127.0.0.1", port }), STALL_MS, "connect");
      conns.push(c);
      await c.write(new Uint8Array([1]));
      // The echo came back: the connection is forwarded end to end. A path that closes it instead (a
      // quic node out of streams gives up after its 5 s handshakeTimeout) fails the row, where going on
      // took 5 s per connection and looked like a hang.
      const n = await deadline(c.read(buf), STALL_MS, `echo on idle connection ${i + 1}`);
      if (n !== 1) throw new Error(`idle connection ${i + 1} was closed before its echo came back`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    return (total(pids, rssKB) - before) / IDLE;
  } finally {
    for (const c of conns) c.close();
  }
}

function haproxyConfig(ports: Ports): string {
  const path = Deno.makeTempFileSync({ suffix: ".cfg" });
  Deno.writeTextFileSync(
    path,
    `global\n  maxconn 5000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n` +
      `listen fwd\n  bind 127.0.0.1:${ports.ENTRY}\n  server t 127.0.0.1:${ports.TARGET}\n`,
  );
  return path;
}

async function measureImpl(
  c: BenchCase,
  measures: Measure[],
  impl: string,
  commandsFor: (ports: Ports, extra: Record<string, string>) => string[][],
  echoPort: number,
): Promise<Row> {
  const row: Row = { case: c.name, impl };
  const wantsIperf = measures.some((m) => m === "throughput1" || m === "throughput4" || m === "reverse");
  try {
    if (wantsIperf) {
      // A fresh iperf3 server per implementation: one that a stalled path left "busy running a test" must not
      // fail the rows after it.
      const server = await startIperfServer();
      const ports = allocPorts(server.port);
      const extra = { HAPROXY_CFG: haproxyConfig(ports) };
      const run = await launch(commandsFor(ports, extra), ports.ENTRY).catch(async (err) => {
        await server.stop();
        throw err;
      });
      try {
        if (measures.includes("throughput1")) {
          const t0 = total(run.pids, cpuTicks), w0 = performance.now();
          row.throughput1 = await iperf(ports.ENTRY);
          const ticks = total(run.pids, cpuTicks) - t0;
          row.cpu1 = ticks / 100 / ((performance.now() - w0) / 1000) * 100;
        }
        if (measures.includes("throughput4")) row.throughput4 = await iperf(ports.ENTRY, ["-P", "4"]);
        if (measures.includes("reverse")) row.reverse = await iperf(ports.ENTRY, ["-R"]);
      } finally {
        await run.stop();
        await server.stop();
      }
    }
    if (measures.includes("connRate") || measures.includes("idleMemory")) {
      const ports = allocPorts(echoPort);
      const extra = { HAPROXY_CFG: haproxyConfig(ports) };
      const run = await launch(commandsFor(ports, extra), ports.ENTRY);
      try {
        if (measures.includes("connRate")) {
          // A fresh process's first second runs colder (JIT, pools, a mux session): measured, mtls did
          // 680-700 conn/s then against ~1000 warm, tls 345-356 against ~480. Every row warms up alike.
          await connRate(ports.ENTRY, 8, WARM_UP_MS);
          row.connRate1 = await connRate(ports.ENTRY, 1);
          row.connRate64 = await connRate(ports.ENTRY, 64);
        }
        if (measures.includes("idleMemory")) row.idleKB = await idleMemory(ports.ENTRY, run.pids);
      } finally {
        await run.stop();
      }
    }
  } catch (err) {
    row.note = (err as Error).message.slice(0, 120);
  }
  return row;
}

const fmt = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
const ratio = (a?: number, b?: number) => (a === undefined || !b ? "" : ` (${(a / b).toFixed(2)}×)`);

async function main() {
  if (!FILTER || "startup".includes(FILTER)) await startupBench();
  for (const need of ["iperf3"]) {
    if (!which(need)) {
      console.error(`bench needs ${need} (apt-get install ${need})`);
      Deno.exit(2);
    }
  }
  const iperfPort = freePort();
  const iperfServer = new Deno.Command("iperf3", {
    args: ["-s", "-p", String(iperfPort)],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  const echo = tcpEchoServer();
  await new Promise((r) => setTimeout(r, 500));
  const rows: Row[] = [];
  try {
    const direct: Row = { case: "direct loopback", impl: "none" };
    direct.throughput1 = await iperf(iperfPort);
    direct.throughput4 = await iperf(iperfPort, ["-P", "4"]);
    direct.reverse = await iperf(iperfPort, ["-R"]);
    direct.connRate1 = await connRate(echo.port, 1);
    direct.connRate64 = await connRate(echo.port, 64);
    rows.push(direct);
    const deno = Deno.execPath();
    for (const c of allCases.filter((c) => c.name.includes(FILTER))) {
      console.error(`bench: ${c.name}`);
      rows.push(
        await measureImpl(
          c,
          c.measure ?? DEFAULT_MEASURES,
          "gost-deno",
          (p, x) =>
            c.gost.map((argv) => [
              deno,
              "run",
              ...GOST_RUN_FLAGS,
              ...c.denoFlags ?? [],
              MAIN,
              ...substitute(argv, p, x),
            ]),
          echo.port,
        ),
      );
      if (GOST_BIN && !c.denoOnly) {
        rows.push(
          await measureImpl(
            c,
            c.measure ?? DEFAULT_MEASURES,
            "gost",
            (p, x) => c.gost.map((argv) => [GOST_BIN, ...substitute(argv, p, x)]),
            echo.port,
          ),
        );
      }
      for (const peer of c.peers ?? []) {
        const missing = peer.needs.filter((n) => !which(n));
        if (missing.length) {
          rows.push({ case: c.name, impl: peer.name, note: `skipped: needs ${missing.join(", ")}` });
          continue;
        }
        rows.push(
          await measureImpl(
            c,
            peer.measure ?? c.measure ?? DEFAULT_MEASURES,
            peer.name,
            (p, x) => peer.commands.map((argv) => substitute(argv, p, x)),
            echo.port,
          ),
        );
      }
    }
  } finally {
    iperfServer.kill("SIGTERM");
    await iperfServer.status;
    echo.close();
  }
  const d = rows[0];
  console.log(
    `\nbench: ${SECONDS}s iperf3 runs, ${IDLE} idle connections; ratios vs direct loopback, [vs real gost]`,
  );
  console.log(
    "| case | impl | 1 stream Gbit/s | 4 streams Gbit/s | reverse Gbit/s | CPU % (1 stream) | conn/s serial | conn/s 64 | KB/idle conn |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const g = rows.find((x) => x.case === r.case && x.impl === "gost");
    const vsGost = (
      a?: number,
      b?: number,
    ) => (g && r.impl !== "gost" && a !== undefined && b ? ` [${(a / b).toFixed(2)}× gost]` : "");
    console.log(
      `| ${r.case} | ${r.impl} | ${fmt(r.throughput1)}${ratio(r.throughput1, d.throughput1)}${
        vsGost(r.throughput1, g?.throughput1)
      } | ` +
        `${fmt(r.throughput4)}${ratio(r.throughput4, d.throughput4)}${
          vsGost(r.throughput4, g?.throughput4)
        } | ` +
        `${fmt(r.reverse)}${ratio(r.reverse, d.reverse)} | ${fmt(r.cpu1, 0)} | ` +
        `${fmt(r.connRate1, 0)}${ratio(r.connRate1, d.connRate1)}${vsGost(r.connRate1, g?.connRate1)} | ` +
        `${fmt(r.connRate64, 0)}${ratio(r.connRate64, d.connRate64)} | ${fmt(r.idleKB)}${
          vsGost(r.idleKB, g?.idleKB)
        } |` +
        (r.note ? ` ${r.note}` : ""),
    );
  }
  if (!GOST_BIN) console.log("(real gost rows skipped: set GOST_BIN=/path/to/gost to include them)");
}

if (import.meta.main) await main();
