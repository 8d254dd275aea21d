import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { ConnLimiter, type Slot } from "./conn.ts";
import { isAddressScope } from "./ip_table.ts";
import { parseCountLimit } from "./limits.ts";

const lines = (...l: string[]) => l.map((x) => parseCountLimit(x, "climiter", isAddressScope)!);
const take = (c: ConnLimiter, host: string) => {
  const r = c.acquire(host);
  return "refused" in r ? r.refused : r;
};

Deno.test("climiter: $ caps the service; the N+1-th connection is refused until one ends", () => {
  const c = new ConnLimiter(lines("$ 2"));
  const a = take(c, "1.1.1.1") as Slot, b = take(c, "2.2.2.2") as Slot;
  equal(take(c, "3.3.3.3"), "climiter: the service has 2 connections (limit 2)");
  a.release();
  a.release(); // idempotent
  ok(typeof take(c, "3.3.3.3") !== "string");
  equal(c.live, 2);
  b.release();
});

Deno.test("climiter: $$ per IP, an IP or CIDR line instead of $$ (each IP of a CIDR its own count)", () => {
  const c = new ConnLimiter(lines("$$ 1", "10.0.0.0/8 2", "10.1.1.1 3"));
  ok(typeof take(c, "1.1.1.1") !== "string");
  equal(take(c, "1.1.1.1"), "climiter: 1.1.1.1 has 1 connections (limit 1)");
  ok(typeof take(c, "1.1.1.2") !== "string");
  for (let i = 0; i < 2; i++) ok(typeof take(c, "10.2.2.2") !== "string");
  ok(typeof take(c, "10.2.2.2") === "string");
  ok(typeof take(c, "10.2.2.3") !== "string");
  for (let i = 0; i < 3; i++) ok(typeof take(c, "10.1.1.1") !== "string");
  ok(typeof take(c, "10.1.1.1") === "string");
});

Deno.test("climiter: a reload keeps counting the live connections", () => {
  const c = new ConnLimiter(lines("$ 5"));
  const slots = [take(c, "a"), take(c, "b")] as Slot[];
  c.update(lines("$ 2"));
  ok(typeof take(c, "c") === "string");
  c.update([]);
  ok(typeof take(c, "c") !== "string");
  slots.forEach((s) => s.release());
  deepStrictEqual(c.live, 1);
});
