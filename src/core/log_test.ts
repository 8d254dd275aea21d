import assert from "node:assert/strict";
import { isoNow, LogDuration, Logger } from "./log.ts";

function capture(format: "json" | "text") {
  const lines: string[] = [];
  return { lines, log: new Logger({ level: "info", format, sink: (l) => lines.push(l) }) };
}

Deno.test("log: a duration is integer nanoseconds in JSON (Go's time.Duration), Go notation in text", () => {
  const j = capture("json");
  j.log.with({ sid: "x" }).info("a >< b", { duration: new LogDuration(5.567), inputBytes: 3 });
  const rec = JSON.parse(j.lines[0]);
  assert.equal(rec.duration, 5_567_000);
  assert.equal(rec.sid, "x");
  assert.equal(rec.inputBytes, 3);
  const t = capture("text");
  t.log.info("a >< b", { duration: new LogDuration(1500) });
  assert.match(t.lines[0], / info a >< b duration=1\.5s$/);
});

Deno.test("log: isoNow is toISOString, across seconds, days and years, in any order", () => {
  const base = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
  const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2005, 86_400_000 + 7];
  for (const t of [...times, ...times.reverse()]) {
    for (
      const now of [base + t, t, -1000 + t, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1)]
    ) {
      assert.equal(isoNow(now), new Date(now).toISOString(), `at ${now}`);
    }
  }
  assert.match(isoNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

Deno.test("log: a JSON line keeps the field order, with time last", () => {
  const j = capture("json");
  j.log.with({ sid: "x" }).info("m", { duration: new LogDuration(1), dst: "a:1" });
  assert.deepEqual(Object.keys(JSON.parse(j.lines[0])), ["level", "msg", "sid", "duration", "dst", "time"]);
});
