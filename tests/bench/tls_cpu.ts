/**
 * TLS connection set-up cost (issue 20): connections per second through the relay+tls chain and the
 * forward+tls channel (the rows of cases/tls_ws.ts), one at a time and 64 in parallel, with the CPU
 * each gost process spends per connection (from /proc/<pid>/stat), split by process: the entry
 * (TLS client) and the TLS listener.
 *
 * `deno run -A tests/bench/tls_cpu.ts [--count=1500] [--repeat=N] [--base=DIR] [--only=relay,forward]
 * [--profile=DIR]`. `--base=DIR` adds rows for an earlier checkout (`git archive COMMIT | tar -x -C DIR`),
 * run interleaved with this one in each of the `--repeat` rounds (the machine is shared: compare within
 * one run). GOST_BIN adds the real gost. `--profile=DIR` runs gost-deno with `--cpu-prof`
 * (summarise with `tests/bench/kcp_cpu.ts --summary=FILE`).
 * @module
 */
import { freePort, MAIN, tcpEchoServer, waitForPort } from "../_helpers.ts";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";
import { deadline } from "../../src/core/timeout.ts";
import { cpuTicks, stopProcesses } from "./_proc.ts";

const args = Object.fromEntries(
  Deno.args.filter((a) => a.startsWith("--")).map((a) => {
    const eq = a.indexOf("=");
    return eq < 0 ? [a.slice(2), "true"] : [a.slice(2, eq), a.slice(eq + 1)];
  }),
);
const COUNT = Number(args.count ?? 1500);
const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";

/** `count` connections through `port` (`parallel` at a time), each echoing one byte; returns conn/s. */
async function connections(port: number, count: number, parallel: number): Promise<number> {
  let started = 0;
  const one = new Uint8Array([42]);
  const worker = async () => {
    const buf = new Uint8Array(1);
    while (started++ < count) {
      const c = await deadline(Deno.connect({ hostname: "127.0.0.1", port }), 10_000, "connect");
      try {
        await c.write(one);
        const n = await deadline(c.read(buf), 10_000, "echo through the path", () => c.close());
        if (n !== 1) throw new Error("no echo");
      } finally {
        try {
          c.close();
        } catch { /* closed by the deadline */ }
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  return count / ((performance.now() - t0) / 1000);
}

interface Result {
  impl: string;
  path: string;
  parallel: number;
  connPerS: number;
  /** CPU ms per connection: entry (client) process, listener process. */
  clientMs: number;
  serverMs: number;
}

type Commands = (p: { entry: number; relay: number; target: number }) => string[][];

const paths: Record<string, (gost: (a: string[]) => string[]) => Commands> = {
  relay: (gost) => ({ entry, relay, target }) => [
    gost(["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${target}`, "-F", `relay+tls://127.0.0.1:${relay}`]),
    gost(["-L", `relay+tls://127.0.0.1:${relay}`]),
  ],
  // The same chain without TLS: what TLS adds is the difference.
  "relay-notls": (gost) => ({ entry, relay, target }) => [
    gost(["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${target}`, "-F", `relay://127.0.0.1:${relay}`]),
    gost(["-L", `relay://127.0.0.1:${relay}`]),
  ],
  forward: (gost) => ({ entry, relay, target }) => [
    gost(["-L", `tcp://127.0.0.1:${entry}`, "-F", `forward+tls://127.0.0.1:${relay}`]),
    gost(["-L", `tls://127.0.0.1:${relay}/127.0.0.1:${target}`]),
  ],
  // Shadowsocks (the ss rows of cases/ss.ts): no TLS, but the same per-connection question.
  ss: (gost) => ({ entry, relay, target }) => [
    gost([
      "-L",
      `tcp://127.0.0.1:${entry}/127.0.0.1:${target}`,
      "-F",
      `ss://aes-256-gcm:pass@127.0.0.1:${relay}`,
    ]),
    gost(["-L", `ss://aes-256-gcm:pass@127.0.0.1:${relay}`]),
  ],
  ss2022: (gost) => ({ entry, relay, target }) => {
    const key = encodeURIComponent("AAECAwQFBgcICQoLDA0ODw==");
    const method = "2022-blake3-aes-128-gcm";
    return [
      gost([
        "-L",
        `tcp://127.0.0.1:${entry}/127.0.0.1:${target}`,
        "-F",
        `ss://${method}:${key}@127.0.0.1:${relay}`,
      ]),
      gost(["-L", `ss://${method}:${key}@127.0.0.1:${relay}`]),
    ];
  },
};

async function run(impl: string, path: string, commands: Commands, target: number): Promise<Result[]> {
  const ports = { entry: freePort(), relay: freePort(), target };
  const children = commands(ports).map((argv) =>
    new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "null", stdin: "null" }).spawn()
  );
  try {
    await waitForPort(ports.entry, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    // Warm up: the first connections compile the code paths.
    await connections(ports.entry, 100, 4);
    const out: Result[] = [];
    for (const parallel of [1, 64]) {
      const [c0, s0] = children.map((c) => (cpuTicks(c.pid) ?? 0) * 10);
      const connPerS = await connections(ports.entry, COUNT, parallel);
      const [c1, s1] = children.map((c) => (cpuTicks(c.pid) ?? 0) * 10);
      out.push({ impl, path, parallel, connPerS, clientMs: (c1 - c0) / COUNT, serverMs: (s1 - s0) / COUNT });
    }
    return out;
  } finally {
    await stopProcesses(children, "SIGINT");
  }
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  using echo = tcpEchoServer();
  const deno = Deno.execPath();
  const prof = args.profile ? ["--cpu-prof", `--cpu-prof-dir=${args.profile}`] : [];
  const gostDeno = (main: string) => (a: string[]) => [deno, "run", ...GOST_RUN_FLAGS, ...prof, main, ...a];
  const impls: Record<string, (a: string[]) => string[]> = {
    "gost-deno": gostDeno(args.main ?? MAIN),
    ...(args.base ? { "gost-deno (base)": gostDeno(`${args.base}/src/main.ts`) } : {}),
    ...(GOST_BIN ? { gost: (a: string[]) => [GOST_BIN, ...a] } : {}),
  };
  const only = args.only ? args.only.split(",") : ["relay", "forward"];
  const results: Result[] = [];
  for (let round = 0; round < Number(args.repeat ?? 1); round++) {
    for (const path of only) {
      for (const [impl, gost] of Object.entries(impls)) {
        const rows = await run(impl, path, paths[path](gost), echo.port);
        for (const r of rows) {
          console.error(
            `${r.path} ${r.impl} x${r.parallel}: ${r.connPerS.toFixed(0)} conn/s, ` +
              `CPU ms/conn client ${r.clientMs.toFixed(2)} server ${r.serverMs.toFixed(2)}`,
          );
        }
        results.push(...rows);
      }
    }
  }
  console.log(
    "| path | impl | parallel | conn/s median (min–max) | client CPU ms/conn | server CPU ms/conn |",
  );
  console.log("|---|---|---|---|---|---|");
  const keys = [...new Set(results.map((r) => `${r.path}\t${r.impl}\t${r.parallel}`))];
  for (const k of keys) {
    const [path, impl, parallel] = k.split("\t");
    const rs = results.filter((r) => r.path === path && r.impl === impl && String(r.parallel) === parallel);
    const rate = rs.map((r) => r.connPerS);
    console.log(
      `| ${path} | ${impl} | ${parallel} | ${median(rate).toFixed(0)} (${Math.min(...rate).toFixed(0)}–${
        Math.max(...rate).toFixed(0)
      }) | ${median(rs.map((r) => r.clientMs)).toFixed(2)} | ${
        median(rs.map((r) => r.serverMs)).toFixed(2)
      } |`,
    );
  }
}

if (import.meta.main) await main();
