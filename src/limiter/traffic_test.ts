import { equal, notEqual, ok } from "node:assert/strict";
import { type DirectIO, type Duplex, IODuplex } from "../core/duplex.ts";
import { isAddressScope } from "./ip_table.ts";
import { parseTrafficLimit } from "./limits.ts";
import { TrafficLimiter } from "./traffic.ts";

const lines = (...l: string[]) => l.map((x) => parseTrafficLimit(x, isAddressScope)!);
const idle: DirectIO = {
  read: () => Promise.resolve(null),
  write: () => Promise.resolve(),
  closeWrite: () => Promise.resolve(),
};
const conn = (remote: string): Duplex => new IODuplex(idle, () => {}, "127.0.0.1:80", remote);

/** How many bytes a step of each direction may move (Infinity: not limited). */
function steps(lim: TrafficLimiter, c: Duplex, scope: "" | "service" | "conn" = "") {
  const d = lim.wrap(c, scope);
  type T = { clip(n: number): number } | null;
  const io = d.direct as unknown as { inT: T; outT: T } | undefined;
  return {
    d,
    in: io?.inT?.clip(Infinity) ?? Infinity,
    out: io?.outT?.clip(Infinity) ?? Infinity,
  };
}

Deno.test("traffic: no limit for a client leaves its connection untouched", () => {
  const lim = new TrafficLimiter(lines("10.0.0.0/8 1MB"));
  const c = conn("127.0.0.1:5000");
  equal(lim.wrap(c), c);
  equal(new TrafficLimiter([]).unlimited, true);
});

Deno.test("traffic: service, connection and IP levels combine; the smallest step wins", () => {
  const lim = new TrafficLimiter(lines("$ 100KB 200KB", "$$ 10KB", "127.0.0.1 1KB 50KB"));
  const s = steps(lim, conn("127.0.0.1:1"));
  equal(s.in, Math.ceil(1024 * 0.05)); // the IP's 1KB/s
  equal(s.out, Math.ceil(50 * 1024 * 0.05));
  const other = steps(lim, conn("10.1.1.1:1"));
  equal(other.in, 512); // $$ 10KB
  equal(other.out, Math.ceil(200 * 1024 * 0.05)); // only the service level limits out
  equal(steps(lim, conn("127.0.0.1:2"), "service").in, Math.ceil(100 * 1024 * 0.05));
  equal(steps(lim, conn("10.1.1.1:2"), "conn").out, Infinity);
});

Deno.test("traffic: an IP's own line wins over its CIDR; of two CIDRs the broadest (gost's order)", () => {
  const lim = new TrafficLimiter(lines("10.0.0.0/8 1KB", "10.1.0.0/16 2KB", "10.1.2.3 4KB", "::1 8KB"));
  equal(steps(lim, conn("10.1.2.3:1")).in, Math.ceil(4 * 1024 * 0.05));
  equal(steps(lim, conn("10.1.9.9:1")).in, Math.ceil(1024 * 0.05));
  equal(steps(lim, conn("[::1]:1")).in, Math.ceil(8 * 1024 * 0.05));
  equal(steps(lim, conn("[::ffff:10.2.0.1]:1")).in, Math.ceil(1024 * 0.05));
  equal(steps(lim, conn("11.0.0.1:1")).in, Infinity);
});

Deno.test("traffic: an IP's connections share one bucket, each connection has its own", () => {
  const lim = new TrafficLimiter(lines("$$ 1KB", "127.0.0.1 1MB"));
  const a = lim.wrap(conn("127.0.0.1:1")).direct as unknown as { inT: { buckets: unknown[] } };
  const b = lim.wrap(conn("127.0.0.1:2")).direct as unknown as { inT: { buckets: unknown[] } };
  equal(a.inT.buckets.length, 2);
  notEqual(a.inT.buckets[0], b.inT.buckets[0]); // $$
  equal(a.inT.buckets[1], b.inT.buckets[1]); // the IP's
  equal(lim.hostCount, 1);
});

Deno.test("traffic: a reload changes live connections' rates in place", () => {
  const lim = new TrafficLimiter(lines("$ 100KB", "$$ 10KB"));
  const live = steps(lim, conn("127.0.0.1:1"));
  equal(live.in, 512);
  lim.update(lines("$ 1KB"));
  const io = live.d.direct as unknown as { inT: { clip(n: number): number } };
  equal(io.inT.clip(Infinity), Math.ceil(1024 * 0.05)); // $$ gone (unlimited), $ now 1KB
  lim.update([]);
  equal(io.inT.clip(Infinity), Infinity);
  ok(lim.unlimited);
});

Deno.test("traffic: hosts with no live connection and full buckets are forgotten", () => {
  let now = 0;
  const lim = new TrafficLimiter(lines("10.0.0.0/8 1KB"), () => now);
  for (let i = 0; i < 100; i++) lim.wrap(conn(`10.0.${i}.1:1`)).close();
  equal(lim.hostCount, 100);
  const keep = lim.wrap(conn("10.9.9.9:1"));
  now += 60_000;
  lim.wrap(conn("10.7.7.7:1")).close();
  equal(lim.hostCount, 2); // the live one and the newest
  keep.close();
});
