import assert from "node:assert/strict";
import { LogDuration, Logger } from "./log.ts";

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
