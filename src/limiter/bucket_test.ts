import { equal, ok } from "node:assert/strict";
import { Throttle, TokenBucket } from "./bucket.ts";

/** A clock that moves only when told. */
function fakeClock() {
  let t = 1000;
  const clock = () => t;
  return { clock, advance: (ms: number) => t += ms };
}

Deno.test("bucket: starts full, then reservations go into debt and say how long to wait", () => {
  const { clock, advance } = fakeClock();
  const b = new TokenBucket(1000, 1000, clock); // 1000 tokens per second
  equal(b.reserve(600), 0);
  equal(b.reserve(400), 0);
  equal(b.reserve(500), 500); // 500 short at 1 per ms
  equal(b.reserve(500), 1000); // queued behind the first debt
  advance(1000);
  equal(b.reserve(0), 0); // the debt of 1000 is paid after a second
  advance(250);
  equal(b.reserve(500), 250);
});

Deno.test("bucket: refill stops at the burst; allow() never goes into debt", () => {
  const { clock, advance } = fakeClock();
  const b = new TokenBucket(10, 11, clock); // an rlimiter of 10/s
  let n = 0;
  while (b.allow()) n++;
  equal(n, 11);
  advance(100);
  ok(b.allow());
  ok(!b.allow());
  advance(60_000);
  ok(b.full);
  n = 0;
  while (b.allow()) n++;
  equal(n, 11);
});

Deno.test("bucket: a new rate applies to what is reserved next; 0 means unlimited", () => {
  const { clock, advance } = fakeClock();
  const b = new TokenBucket(1000, 1000, clock);
  equal(b.reserve(1000), 0);
  b.setRate(2000);
  equal(b.reserve(1000), 500);
  b.setRate(0);
  equal(b.rate, Infinity);
  equal(b.reserve(1e12), 0);
  equal(b.step, Infinity);
  b.setRate(100);
  advance(10_000);
  equal(b.reserve(100), 0);
});

Deno.test("bucket: over a long run the granted rate is the configured one", () => {
  const { clock, advance } = fakeClock();
  const b = new TokenBucket(1024 * 1024, 1024 * 1024, clock);
  // A reader taking one step at a time, sleeping as told: 10 s of traffic.
  let moved = 0, t = 0;
  while (t < 10_000) {
    const n = b.step;
    const wait = b.reserve(n);
    advance(wait);
    t += wait;
    moved += n;
  }
  const rate = (moved - 1024 * 1024) / (t / 1000); // less the initial burst
  ok(Math.abs(rate / (1024 * 1024) - 1) < 0.01, `${rate}`);
});

Deno.test("throttle: steps are the smallest bucket's, waits the longest", () => {
  const { clock } = fakeClock();
  const fast = new TokenBucket(100_000_000, 100_000_000, clock), slow = new TokenBucket(1000, 1000, clock);
  const t = new Throttle([fast, slow]);
  equal(slow.step, 50); // 50 ms worth
  equal(t.clip(4096), 50);
  equal(t.clip(10), 10);
  equal(t.reserve(1000), 0);
  equal(t.reserve(100), 100);
  equal(new Throttle([fast]).clip(512 * 1024), 512 * 1024);
});
