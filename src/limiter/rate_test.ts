import { equal, match } from "node:assert/strict";
import { isAddressScope } from "./ip_table.ts";
import { parseCountLimit } from "./limits.ts";
import { RateLimiter } from "./rate.ts";

const lines = (...l: string[]) => l.map((x) => parseCountLimit(x, "rlimiter", isAddressScope)!);

Deno.test("rlimiter: R per second with a burst of R+1, per service and per IP", () => {
  let now = 0;
  const r = new RateLimiter(lines("$ 10", "$$ 2"), () => now);
  let ok = 0;
  for (let i = 0; i < 5; i++) if (r.check("1.1.1.1") === null) ok++;
  equal(ok, 3); // $$ 2 → burst 3
  match(r.check("1.1.1.1")!, /rlimiter: 1\.1\.1\.1 is over 2 requests per second/);
  now += 500;
  equal(r.check("1.1.1.1"), null);
});

Deno.test("rlimiter: the service level counts every client's requests, refused ones too (as gost)", () => {
  const r = new RateLimiter(lines("$ 2", "1.1.1.1 1"), () => 0);
  equal(r.check("1.1.1.1"), null);
  equal(r.check("1.1.1.1"), null);
  match(r.check("1.1.1.1")!, /1\.1\.1\.1 is over 1 requests/); // took the service's third token
  match(r.check("2.2.2.2")!, /the service is over 2 requests per second/);
});

Deno.test("rlimiter: a fractional rate, a CIDR line, and idle IPs forgotten", () => {
  let now = 0;
  const r = new RateLimiter(lines("10.0.0.0/8 0.5"), () => now);
  equal(r.check("10.1.1.1"), null);
  match(r.check("10.1.1.1")!, /over 0\.5/);
  equal(r.check("192.168.1.1"), null);
  now += 2000;
  equal(r.check("10.1.1.1"), null);
  now += 60_000;
  r.check("10.2.2.2");
  equal(r.hostCount, 1);
});
