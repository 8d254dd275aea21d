import assert from "node:assert/strict";
import { formatDuration, formatNanos, parseDuration } from "./duration.ts";

Deno.test("parses Go durations and bare seconds", () => {
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("300ms"), 300);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("30"), 30_000);
  assert.equal(parseDuration(10), 10_000);
  assert.equal(parseDuration("0"), 0);
});

Deno.test("rejects malformed durations", () => {
  for (const bad of ["", "5x", "s", "-1s", "1s2", "abc", null, {}]) {
    assert.equal(parseDuration(bad), null, String(bad));
  }
});

Deno.test("formats like Go", () => {
  assert.equal(formatDuration(30_000), "30s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(500), "500ms");
  assert.equal(formatDuration(3_600_000), "1h0m0s");
  assert.equal(formatDuration(60_000), "1m0s");
  assert.equal(formatDuration(1500), "1.5s");
});

Deno.test("formats nanoseconds like Go's Duration.String", () => {
  assert.equal(formatNanos(0), "0s");
  assert.equal(formatNanos(850), "850ns");
  assert.equal(formatNanos(1_500), "1.5µs");
  assert.equal(formatNanos(5_567_000), "5.567ms");
  assert.equal(formatNanos(1_500_000_000), "1.5s");
  assert.equal(formatNanos(62_000_001_000), "1m2.000001s");
  assert.equal(formatNanos(3_600_000_000_000), "1h0m0s");
});
