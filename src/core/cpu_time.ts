/**
 * The process's CPU time, loaded on first use. It comes from `node:process`, and importing
 * any `node:` module starts Deno's Node compatibility layer, which costs ~17 ms of CPU and
 * ~6 MiB of memory (tests/bench/startup.ts): a process that never asks (an idle one) never
 * pays. (/proc/self/stat would do on Linux, but Deno lets only `--allow-all` read /proc/self.)
 * @module
 */

let reader: (() => number) | undefined;
let loading: Promise<void> | undefined;

/**
 * User + system CPU time this process (all its threads) has used, in microseconds, or
 * `undefined` while `node:process` is still loading: the first call starts the load, and
 * a caller sampling periodically simply gets its first number one period later.
 */
export function cpuMicros(): number | undefined {
  if (reader) return reader();
  loading ??= import("node:process").then(({ default: process }) => {
    reader = () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    };
  });
  return undefined;
}

/** Resolves once {@link cpuMicros} answers (tests, and callers that can wait). */
export function cpuClockReady(): Promise<void> {
  cpuMicros();
  return loading ?? Promise.resolve();
}
