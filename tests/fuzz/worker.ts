/**
 * The fuzz worker: runs targets one after another, each for a number of inputs or until a
 * time budget ends, and publishes the input in flight through shared memory so that the
 * main thread can name the input of a hang (a worker stuck in a loop cannot say anything).
 * @module
 */
import { ALLOC_LIMIT, AllocationTooLarge, installAllocationGuard } from "./guard.ts";
installAllocationGuard();
const { ALL_TARGETS: REAL, SELFTEST_TARGETS } = await import("./targets.ts");
const ALL_TARGETS = [...REAL, ...SELFTEST_TARGETS];
const { fromHex, mutate, Rng, toHex } = await import("./mutate.ts");

/** Inputs that once failed (`regressions.txt`: `<target> <hex>` lines): replayed as seeds by every run. */
const REGRESSIONS = Deno.readTextFileSync(new URL("./regressions.txt", import.meta.url))
  .split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(" "));

/** What the main thread asks for. */
export interface WorkerJob {
  targets: string[];
  inputs: number;
  seconds: number;
  seed: number;
  /** Instead of mutated inputs, this one input (hex), once: re-checks a hang on a fresh worker. */
  replay?: string;
  /** [0] inputs done (Int32), [1] target index, [2] input length, [3] phase (0 warm-up, 1 fuzzing); bytes from 16. */
  shared: SharedArrayBuffer;
}

/** One failure, as reported to the main thread. */
export interface Failure {
  target: string;
  kind: "crash" | "hang" | "allocation" | "memory" | "stall";
  error: string;
  hex: string;
}

/** A target's summary. */
export interface TargetResult {
  target: string;
  inputs: number;
  rejected: number;
  ms: number;
  failures: Failure[];
}

/** The parts of the worker's global scope used here. */
const scope = self as unknown as {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent<WorkerJob>) => void) | null;
};

const MEMORY_LIMIT = 1536 * 1024 * 1024;
const MAX_FAILURES = 3;

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frames = (err.stack ?? "").split("\n").slice(1, 4).map((l) => l.trim()).join(" | ");
  return `${err.name}: ${err.message}${frames ? ` (${frames})` : ""}`;
}

scope.onmessage = async (e: MessageEvent<WorkerJob>) => {
  const job = e.data;
  const state = new Int32Array(job.shared, 0, 4);
  const bytes = new Uint8Array(job.shared, 16);
  const publish = (input: Uint8Array) => {
    const n = Math.min(input.length, bytes.length);
    bytes.set(n === input.length ? input : input.subarray(0, n));
    Atomics.store(state, 2, input.length);
  };
  for (const name of job.targets) {
    const index = ALL_TARGETS.findIndex((t) => t.name === name);
    const t = ALL_TARGETS[index];
    Atomics.store(state, 1, index);
    Atomics.store(state, 3, 0);
    Atomics.store(state, 0, 0);
    const failures: Failure[] = [];
    const seen = new Set<string>();
    const fail = (kind: Failure["kind"], err: unknown, input: Uint8Array) => {
      const error = kind === "memory" ? String(err) : describe(err);
      const key = `${kind} ${error.split(" (")[0]}`;
      if (seen.has(key) || failures.length >= MAX_FAILURES) return;
      seen.add(key);
      failures.push({ target: name, kind, error, hex: toHex(input) });
    };
    let rejected = 0;
    const one = async (input: Uint8Array) => {
      publish(input);
      try {
        const r = t.run(input);
        if (r) await r;
      } catch (err) {
        if (err instanceof AllocationTooLarge) fail("allocation", err, input);
        else if (t.rejects(err)) rejected++;
        else fail("crash", err, input);
      }
    };
    const seeds = [
      ...await t.seeds(),
      ...REGRESSIONS.filter(([n]) => n === name).map(([, h]) => fromHex(h ?? "")),
    ];
    // Warm-up: the seeds themselves (loads lazily imported modules; the main thread waits longer).
    for (const s of seeds) await one(s);
    Atomics.store(state, 3, 1);
    const rng = new Rng(job.seed ^ index * 0x9e37);
    const start = performance.now();
    const end = start + job.seconds * 1000;
    let n = 0;
    while (n < job.inputs) {
      await one(job.replay !== undefined ? fromHex(job.replay) : mutate(rng, seeds));
      n++;
      Atomics.store(state, 0, n);
      if ((n & 63) === 0) {
        if (performance.now() > end) break;
        const rss = (n & 4095) === 0 ? Deno.memoryUsage().rss : 0;
        if (rss > MEMORY_LIMIT) {
          fail(
            "memory",
            `process memory at ${Math.round(rss / 2 ** 20)} MiB after ${n} inputs`,
            new Uint8Array(0),
          );
          break;
        }
      }
    }
    await t.done?.();
    const result: TargetResult = {
      target: name,
      inputs: n,
      rejected,
      ms: performance.now() - start,
      failures,
    };
    scope.postMessage({ type: "result", result });
    // A loop of resolved promises never returns to the event loop: let the message go out.
    await new Promise((r) => setTimeout(r, 0));
  }
  scope.postMessage({ type: "end" });
};

scope.postMessage({ type: "ready", limit: ALLOC_LIMIT });
