import { deepStrictEqual, equal } from "node:assert/strict";
import { type DirectIO, IODuplex } from "../core/duplex.ts";
import { Logger } from "../core/log.ts";
import { ConnLimiter } from "./conn.ts";
import { isAddressScope } from "./ip_table.ts";
import { parseCountLimit } from "./limits.ts";
import { LimitPolicy, RefusalLog } from "./policy.ts";
import { RateLimiter } from "./rate.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger({ level: "info", format: "json", sink: (l) => void lines.push(JSON.parse(l)) });
  return { lines, log };
}

Deno.test("refusals: ten lines a second, the rest summed up when the second is over", async () => {
  let now = 0;
  const { lines, log } = capture();
  const r = new RefusalLog(() => now);
  for (let i = 0; i < 25; i++) r.refused(log, "climiter: full");
  equal(lines.length, 10);
  now = 1000;
  r.refused(log, "again");
  deepStrictEqual(lines.slice(10).map((l) => l.msg), [
    "15 more refused connection(s) not logged in the last second",
    "refused: again",
  ]);
  r.flush();
  equal(lines.length, 12);
  await Promise.resolve();
});

const idle: DirectIO = {
  read: () => Promise.resolve(null),
  write: () => Promise.resolve(),
  closeWrite: () => Promise.resolve(),
};
const count = (l: string, kind: "climiter" | "rlimiter") => [parseCountLimit(l, kind, isAddressScope)!];

Deno.test("policy: climiter first, rlimiter next (its refusal gives the slot back), then the connection", () => {
  const { lines, log } = capture();
  const climiter = new ConnLimiter(count("$ 1", "climiter"));
  const rlimiter = new RateLimiter(count("$ 1", "rlimiter"), () => 0); // burst 2
  const p = new LimitPolicy(undefined, "", climiter, rlimiter);
  const conn = () => new IODuplex(idle, () => {}, "127.0.0.1:1", "10.0.0.1:5");
  const first = conn();
  const a = p.admit(first, log)!;
  equal(a.conn, first, "no traffic limiter: the handler gets the connection itself");
  equal(p.admit(conn(), log), null); // climiter full
  a.done();
  const b = p.admit(conn(), log)!;
  b.done();
  equal(p.admit(conn(), log), null); // rate: 2 taken
  equal(climiter.live, 0);
  deepStrictEqual(lines.map((l) => l.msg), [
    "refused: climiter: the service has 1 connections (limit 1)",
    "refused: rlimiter: the service is over 1 requests per second",
  ]);
});
