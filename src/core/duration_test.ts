import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

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
