/**
 * Per-connection cost of the policy checks (`deno bench src/core/matcher_bench.ts`): a client
 * address against a 10,000-entry admission list and a target against a 10,000-entry bypass list
 * (every kind mixed, no match: the path every admitted, non-bypassed connection takes), beside
 * the same checks on lists of 10.
 * @module
 */
import { AddressMatcher } from "./matcher.ts";

function lists(n: number) {
  const bypass: string[] = [], admission: string[] = [];
  for (let i = 0; i < n; i++) {
    bypass.push(
      [
        `10.${(i >> 8) & 255}.${i & 255}.1`,
        `172.${16 + (i & 15)}.${(i >> 4) & 255}.0/24`,
        `host${i}.example.com`,
        `.d${i}.example.org`,
        `*.s${i}.example.net:443`,
      ][i % 5],
    );
    admission.push(
      [
        `10.${(i >> 8) & 255}.${i & 255}.9`,
        `192.168.${i & 255}.0/28`,
        `11.${(i >> 8) & 255}.${i & 255}.1-11.${(i >> 8) & 255}.${i & 255}.9`,
      ][i % 3],
    );
  }
  return { bypass: AddressMatcher.parse(bypass).matcher, admission: AddressMatcher.parse(admission).matcher };
}

for (const n of [10, 10_000]) {
  const { bypass, admission } = lists(n);
  Deno.bench(`admission (client IP), ${n} entries`, { group: "policy" }, () => {
    admission.matchAddr("127.0.0.1:41234");
  });
  Deno.bench(`bypass (IP target), ${n} entries`, { group: "policy" }, () => {
    bypass.matchAddr("127.0.0.1:5201");
  });
  Deno.bench(`bypass (name target), ${n} entries`, { group: "policy" }, () => {
    bypass.matchAddr("www.some.where.example.com:443");
  });
}
