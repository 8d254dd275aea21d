import { ok } from "node:assert/strict";
import { cpuClockReady, cpuMicros } from "./cpu_time.ts";

Deno.test("cpuMicros answers once loaded and counts the CPU this process burns", async () => {
  await cpuClockReady();
  const before = cpuMicros();
  ok(before !== undefined && before > 0, `no CPU time: ${before}`);
  const until = performance.now() + 50;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const after = cpuMicros()!;
  ok(x > 0);
  ok(after - before >= 25_000, `${after - before} µs for 50 ms of work`);
});
