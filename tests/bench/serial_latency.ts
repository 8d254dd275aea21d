/**
 * Time per serial connection through a relay chain over one channel, connection by connection:
 * median, 90th percentile and how many took over 20 ms, per round (each round a fresh pair of
 * gost-deno processes). Made to chase the ~44 ms stalls (a delayed ACK's 40 ms) that multiplexed
 * TLS channels show in some rounds (docs/bench-2026-12-04.md).
 *
 * `deno run -A tests/bench/serial_latency.ts [--channel=grpc] [--rounds=4] [--count=200]
 * [--client=DIR/src/main.ts] [--server=DIR/src/main.ts] [--workers=N]`.
 * @module
 */
import { freePort, MAIN, tcpEchoServer, waitForPort } from "../_helpers.ts";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";
import { stopProcesses } from "./_proc.ts";

const args = Object.fromEntries(
  Deno.args.filter((a) => a.startsWith("--")).map((a) => {
    const eq = a.indexOf("=");
    return eq < 0 ? [a.slice(2), "true"] : [a.slice(2, eq), a.slice(eq + 1)];
  }),
);
const CHANNEL = args.channel ?? "grpc";
const ROUNDS = Number(args.rounds ?? 4);
const COUNT = Number(args.count ?? 200);

function gost(main: string, argv: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...GOST_RUN_FLAGS, main, ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Milliseconds each of `count` serial connections through `port` took to echo one byte. */
async function serialTimes(port: number, count: number): Promise<number[]> {
  const times: number[] = [];
  const buf = new Uint8Array(1);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await c.write(new Uint8Array([1]));
      if (await c.read(buf) !== 1) throw new Error("no echo");
    } finally {
      c.close();
    }
    times.push(performance.now() - t0);
  }
  return times;
}

async function main(): Promise<void> {
  using echo = tcpEchoServer();
  const workers = args.workers ? ["-workers", args.workers] : [];
  for (let round = 0; round < ROUNDS; round++) {
    const [entry, relay] = [freePort(), freePort()];
    const node = `relay+${CHANNEL}://127.0.0.1:${relay}`;
    const children = [
      gost(args.server ?? MAIN, [...workers, "-L", node]),
      gost(args.client ?? MAIN, ["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`, "-F", node]),
    ];
    try {
      await waitForPort(relay, 20_000);
      await waitForPort(entry, 20_000);
      const times = (await serialTimes(entry, COUNT)).sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
      const slow = times.filter((t) => t > 20).length;
      console.log(
        `relay+${CHANNEL} round ${round}: median ${at(0.5)} ms, p90 ${at(0.9)}, >20 ms: ${slow}/${COUNT}`,
      );
    } finally {
      await stopProcesses(children, "SIGTERM");
    }
  }
}

if (import.meta.main) await main();
