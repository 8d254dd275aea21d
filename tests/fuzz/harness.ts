/**
 * Runs fuzz targets in a worker and watches it: a worker whose input counter stops for
 * longer than the hang limit is stopped, the input it was on (read from shared memory) is
 * reported as a hang, and a fresh worker goes on with the next targets. A hang is then re-run
 * alone on a fresh worker: if it finishes in time there, it was the worker that stalled (a
 * loaded machine, a long GC) and it is shown as a "stall", not counted. (A hang that needs the
 * state left by earlier inputs of a stateful target would be shown as a stall too: read them.)
 * @module
 */
import type { Failure, TargetResult, WorkerJob } from "./worker.ts";
import { toHex } from "./mutate.ts";

export type { Failure, TargetResult };

/** What to run. */
export interface FuzzOptions {
  targets: string[];
  /** Mutated inputs per target (after its seeds). */
  inputs: number;
  /** Time budget per target, seconds. */
  seconds: number;
  seed?: number;
  /** Instead of mutated inputs, this input (hex) once (see {@link hangRepeats}). */
  replay?: string;
  /** An input that takes longer than this is a hang (ms). */
  hangMs?: number;
  /** Called every few seconds with the target in progress and its inputs so far. */
  onProgress?: (target: string, inputs: number) => void;
  /** Called as each target finishes. */
  onResult?: (r: TargetResult) => void;
}

const SHARED_BYTES = 1 << 20;
const WARMUP_MS = 30_000;

/** Runs `opts.targets`; resolves with each target's result. */
export async function fuzz(opts: FuzzOptions): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  let todo = [...opts.targets];
  while (todo.length) {
    const done = await runWorker({ ...opts, targets: todo });
    const last = done[done.length - 1];
    const hang = last?.failures.find((f) => f.kind === "hang");
    if (hang && !(await hangRepeats(opts, hang))) {
      // Not a hang of the parser: the whole worker stalled (a loaded machine, a long GC).
      hang.kind = "stall";
      hang.error += "; the input alone finished in time on a fresh worker (not counted)";
    }
    if (hang) opts.onResult?.(last);
    results.push(...done);
    todo = todo.slice(done.length);
  }
  return results;
}

/** Runs `hang`'s input once on a fresh worker: true when it hangs again. */
async function hangRepeats(opts: FuzzOptions, hang: Failure): Promise<boolean> {
  const [r] = await runWorker({
    ...opts,
    targets: [hang.target],
    inputs: 1,
    replay: hang.hex,
    onResult: undefined,
  });
  return r?.failures.some((f) => f.kind === "hang") ?? true;
}

/** One worker over `opts.targets`, until it ends or hangs (then the hung target's result closes the list). */
function runWorker(opts: FuzzOptions): Promise<TargetResult[]> {
  const shared = new SharedArrayBuffer(16 + SHARED_BYTES);
  const state = new Int32Array(shared, 0, 4);
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  const results: TargetResult[] = [];
  const hangMs = opts.hangMs ?? 1000;
  return new Promise((resolve, reject) => {
    let last = -1;
    let lastTarget = -1;
    let since = performance.now();
    let targetStart = performance.now();
    let reported = performance.now();
    const timer = setInterval(() => {
      const n = Atomics.load(state, 0), t = Atomics.load(state, 1), phase = Atomics.load(state, 3);
      const now = performance.now();
      if (opts.onProgress && now - reported > 10_000 && t >= 0) {
        reported = now;
        opts.onProgress(opts.targets[results.length] ?? "?", n);
      }
      if (n !== last || t !== lastTarget) {
        if (t !== lastTarget) targetStart = now;
        last = n, lastTarget = t, since = now;
        return;
      }
      if (now - since < (phase === 0 ? WARMUP_MS : hangMs)) return;
      clearInterval(timer);
      worker.terminate();
      const len = Atomics.load(state, 2);
      const input = new Uint8Array(shared, 16, Math.min(len, SHARED_BYTES)).slice();
      const name = opts.targets[results.length];
      const failure: Failure = {
        target: name,
        kind: "hang",
        error: `no progress for ${Math.round(now - since)} ms${
          len > SHARED_BYTES ? ` (input of ${len} bytes, first ${SHARED_BYTES} shown)` : ""
        }`,
        hex: toHex(input),
      };
      const result = { target: name, inputs: n, rejected: 0, ms: now - targetStart, failures: [failure] };
      results.push(result); // reported by fuzz() once the hang is re-checked
      resolve(results);
    }, Math.min(200, hangMs / 4));
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === "ready") {
        const job: WorkerJob = {
          targets: opts.targets,
          inputs: opts.inputs,
          seconds: opts.seconds,
          seed: opts.seed ?? 1,
          replay: opts.replay,
          shared,
        };
        worker.postMessage(job);
      } else if (m.type === "result") {
        results.push(m.result);
        opts.onResult?.(m.result);
      } else if (m.type === "end") {
        clearInterval(timer);
        worker.terminate();
        resolve(results);
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      clearInterval(timer);
      worker.terminate();
      reject(new Error(`fuzz worker failed: ${e.message}`));
    };
  });
}

/** The failures that count (a stall that did not repeat is only shown). */
export function realFailures(results: TargetResult[]): Failure[] {
  return results.flatMap((r) => r.failures).filter((f) => f.kind !== "stall");
}

/** A failure as printed: target, kind, error, and the input in hex. */
export function formatFailure(f: Failure): string {
  return `FAIL ${f.target} (${f.kind}): ${f.error}\n  input (${f.hex.length / 2} bytes): ${f.hex}`;
}
