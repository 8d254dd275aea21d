/**
 * KCP cost per megabyte (issue 5): iperf3 through a KCP forward (`-L tcp:// -F forward+kcp://` and
 * `-L kcp://`, two processes), measuring throughput, the CPU both processes spend per megabyte
 * moved, and their peak resident memory — for gost-deno and, beside it, Debian's kcptun pair
 * (with the same crypt, FEC, compression and windows as gost-deno's defaults) and, when GOST_BIN
 * names one, the real gost with the same command lines.
 *
 * `deno run -A tests/bench/kcp_cpu.ts [--seconds=10] [--reverse] [--bitrate=100M] [--repeat=N] [--base=DIR] [--no-ffi]
 * [--profile=DIR] [--only=gost-deno,kcptun] [extra kcp options, e.g. kcp.sndwnd=128&kcp.rcvwnd=128]`.
 * gost-deno runs with the project's permissions (scripts/permissions.ts); `--no-ffi` denies FFI (the socket keeps the kernel's default buffers),
 * `--env` adds `--allow-env` (for experiments that read the environment).
 * The table splits CPU per megabyte by process (the listener receives, the dialer sends; `-R`
 * swaps them) into user + system time.
 * `--base=DIR` adds rows for an earlier checkout (`git archive COMMIT | tar -x -C DIR`);
 * `--repeat=N` interleaves N rounds (the machine is shared: compare within one run).
 * `--v8-flags=...` is added to the project's V8 flags for both gost-deno processes (e.g. `--trace-gc`).
 * With `--profile=DIR` the gost-deno processes run with `--cpu-prof` and write their profiles there
 * (summarise one with `deno run -A tests/bench/kcp_cpu.ts --summary=FILE`).
 * @module
 */
import { freePort, MAIN, waitForPort, which } from "../_helpers.ts";
import { anonKB, rssKB, stopProcesses, total } from "./_proc.ts";
import { GOST_PERMISSIONS, NO_FFI_FLAGS, V8_FLAGS } from "../../scripts/permissions.ts";

interface Result {
  impl: string;
  mbitPerS: number;
  cpuMsPerMB: number;
  cpuPercent: number;
  peakRssMB: number;
  /** Peak of both processes' anonymous resident memory (RSS without mapped files, see anonKB). */
  peakAnonMB: number;
  /** Resident memory of both processes after start-up, before any traffic. */
  idleRssMB: number;
  /** CPU ms per MB of each process (listener first), split user / system. */
  perProcess: { user: number; sys: number }[];
  /** Datagrams the kernel dropped for full receive buffers during the run (all of the machine's UDP). */
  udpDrops: number;
}

/** Linux's count of UDP datagrams dropped because a receive buffer was full, or 0. */
function udpRcvbufErrors(): number {
  try {
    const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n").filter((l) => l.startsWith("Udp:"));
    const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/);
    return Number(values[names.indexOf("RcvbufErrors")] ?? 0);
  } catch {
    return 0;
  }
}

const args = Object.fromEntries(
  Deno.args.filter((a) => a.startsWith("--")).map((a) => {
    const eq = a.indexOf("=");
    return eq < 0 ? [a.slice(2), "true"] : [a.slice(2, eq), a.slice(eq + 1)];
  }),
);
const SECONDS = Number(args.seconds ?? 10);
const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";
const EXTRA = Deno.args.filter((a) => !a.startsWith("--")).join("&");

/** User and system CPU ticks of `pid` (zeros when it is gone). */
function cpuSplit(pid: number): { user: number; sys: number } {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return { user: 0, sys: 0 };
  }
}

async function run(impl: string, commands: string[][], entry: number): Promise<Result> {
  const children = commands.map((argv) =>
    new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: args.stdout ? "inherit" : "null",
      stderr: "inherit",
      stdin: "null",
    })
      .spawn()
  );
  try {
    await waitForPort(entry, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const pids = children.map((c) => c.pid);
    const t0 = pids.map(cpuSplit);
    const drops0 = udpRcvbufErrors();
    const idle = total(pids, rssKB);
    let peak = 0, peakAnon = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, total(pids, rssKB));
      peakAnon = Math.max(peakAnon, total(pids, anonKB));
    }, 200);
    const w0 = performance.now();
    const out = await new Deno.Command("iperf3", {
      args: [
        "-c",
        "127.0.0.1",
        "-p",
        String(entry),
        "-t",
        String(SECONDS),
        "-J",
        ...(args.reverse ? ["-R"] : []),
        // A fixed rate (e.g. 100M) compares memory and CPU at equal load on a noisy machine.
        ...(args.bitrate ? ["-b", args.bitrate] : []),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wall = (performance.now() - w0) / 1000;
    clearInterval(sampler);
    const used = pids.map((p, i) => {
      const t = cpuSplit(p);
      return { user: t.user - t0[i].user, sys: t.sys - t0[i].sys };
    });
    const ticks = used.reduce((s, u) => s + u.user + u.sys, 0);
    const j = JSON.parse(new TextDecoder().decode(out.stdout));
    if (j.error) throw new Error(`${impl}: iperf3: ${j.error}`);
    const mb = (j.end.sum_received.bytes as number) / 1e6;
    const cpuSeconds = ticks / 100;
    return {
      impl,
      mbitPerS: j.end.sum_received.bits_per_second / 1e6,
      cpuMsPerMB: cpuSeconds * 1000 / mb,
      cpuPercent: cpuSeconds / wall * 100,
      peakRssMB: peak / 1024,
      peakAnonMB: peakAnon / 1024,
      idleRssMB: idle / 1024,
      perProcess: used.map((u) => ({ user: u.user * 10 / mb, sys: u.sys * 10 / mb })),
      udpDrops: udpRcvbufErrors() - drops0,
    };
  } finally {
    await stopProcesses(children, "SIGINT");
  }
}

/** Prints the functions with the most self time in a `.cpuprofile`. */
function summarise(file: string): void {
  const prof = JSON.parse(Deno.readTextFileSync(file));
  const self = new Map<string, number>();
  const byId = new Map<number, { callFrame: { functionName: string; url: string; lineNumber: number } }>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const dt: number[] = prof.timeDeltas;
  let total = 0;
  prof.samples.forEach((id: number, i: number) => {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const key = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
    total += dt[i] ?? 0;
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top ?? 30));
  for (const [k, v] of rows) console.log(`${(v / total * 100).toFixed(1).padStart(5)}%  ${k}`);
}

async function main(): Promise<void> {
  if (args.summary) return summarise(args.summary);
  if (!which("iperf3")) throw new Error("needs iperf3");
  const iperfPort = freePort();
  const server = new Deno.Command("iperf3", { args: ["-s", "-p", String(iperfPort)], stdout: "null" })
    .spawn();
  await new Promise((r) => setTimeout(r, 300));
  const results: Result[] = [];
  try {
    const deno = Deno.execPath();
    // What `deno task gost` and the compiled binary run with (FFI for libc lets the KCP socket ask
    // for kcptun's 4 MiB buffers, src/protocol/kcp/sockbuf.ts); `--no-ffi` denies it.
    const perms = [
      ...GOST_PERMISSIONS.filter((p) => !(args.env && p.startsWith("--allow-env"))),
      ...(args["no-ffi"] ? NO_FFI_FLAGS : []),
      ...(args.env ? ["--allow-env"] : []),
    ];
    const prof = args.profile ? ["--cpu-prof", `--cpu-prof-dir=${args.profile}`] : [];
    // The project's V8 flags, plus any given here, as one --v8-flags.
    const v8 = [
      ...V8_FLAGS.map((f) => f.replace(/^--v8-flags=/, "")),
      ...(args["v8-flags"] ? [args["v8-flags"]] : []),
    ];
    prof.push(`--v8-flags=${v8.join(",")}`);
    const q = EXTRA ? `?${EXTRA}` : "";
    const gostDeno = (main: string) => (kcpPort: number, entry: number) => [
      [deno, "run", ...perms, ...prof, main, "-L", `kcp://127.0.0.1:${kcpPort}/127.0.0.1:${iperfPort}${q}`],
      [
        deno,
        "run",
        ...perms,
        ...prof,
        main,
        "-L",
        `tcp://127.0.0.1:${entry}`,
        "-F",
        `forward+kcp://127.0.0.1:${kcpPort}${q}`,
      ],
    ];
    const impls: Record<string, (kcpPort: number, entry: number) => string[][] | null> = {
      "gost-deno": gostDeno(args.main ?? MAIN),
      // An earlier checkout (`git archive <commit> | tar -x -C DIR`) for before/after rows.
      ...(args.base ? { "gost-deno (base)": gostDeno(`${args.base}/src/main.ts`) } : {}),
      // The real gost with every default, as the issue's target names it (GOST_BIN=/path/to/gost).
      ...(GOST_BIN
        ? {
          gost: (kcpPort: number, entry: number) => [
            [GOST_BIN, "-L", `kcp://127.0.0.1:${kcpPort}/127.0.0.1:${iperfPort}${q}`],
            [GOST_BIN, "-L", `tcp://127.0.0.1:${entry}`, "-F", `forward+kcp://127.0.0.1:${kcpPort}${q}`],
          ],
        }
        : {}),
      // kcptun with gost-deno's defaults: AES, FEC 10/3, snappy, mode fast, windows 1024.
      kcptun: (kcpPort, entry) =>
        which("kcptun-server") && which("kcptun-client")
          ? [
            [
              "kcptun-server",
              "-l",
              `127.0.0.1:${kcpPort}`,
              "-t",
              `127.0.0.1:${iperfPort}`,
              "--key",
              "",
              "--sndwnd",
              "1024",
              "--rcvwnd",
              "1024",
              "--quiet",
            ],
            [
              "kcptun-client",
              "-l",
              `127.0.0.1:${entry}`,
              "-r",
              `127.0.0.1:${kcpPort}`,
              "--key",
              "",
              "--sndwnd",
              "1024",
              "--rcvwnd",
              "1024",
              "--quiet",
            ],
          ]
          : null,
    };
    for (let round = 0; round < Number(args.repeat ?? 1); round++) {
      for (const [impl, make] of Object.entries(impls)) {
        if (args.only && !args.only.split(",").includes(impl)) continue;
        const kcpPort = freePort(), entry = freePort();
        const cmds = make(kcpPort, entry);
        if (!cmds) {
          console.error(`skipped ${impl}: not installed`);
          continue;
        }
        results.push(await run(impl, cmds, entry));
      }
    }
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
  console.log(
    `${SECONDS}s iperf3${args.reverse ? " -R" : ""}${args.bitrate ? ` -b ${args.bitrate}` : ""}${
      EXTRA ? `, ${EXTRA}` : ""
    }`,
  );
  console.log(
    "| impl | Mbit/s | CPU % (both processes) | CPU ms per MB | listener ms/MB user+sys | " +
      "dialer ms/MB user+sys | peak RSS MB (both) | idle RSS MB (both) | growth MB | peak anon MB (both) | UDP drops |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  const split = (p: { user: number; sys: number }) => `${p.user.toFixed(1)}+${p.sys.toFixed(1)}`;
  for (const r of results) {
    console.log(
      `| ${r.impl} | ${r.mbitPerS.toFixed(1)} | ${r.cpuPercent.toFixed(0)} | ${r.cpuMsPerMB.toFixed(1)} | ${
        split(r.perProcess[0])
      } | ${split(r.perProcess[1])} | ${r.peakRssMB.toFixed(0)} | ${r.idleRssMB.toFixed(0)} | ${
        (r.peakRssMB - r.idleRssMB).toFixed(0)
      } | ${r.peakAnonMB.toFixed(0)} | ${r.udpDrops} |`,
    );
  }
}

if (import.meta.main) await main();
