import assert from "node:assert/strict";
import { SaltFilter } from "./replay.ts";

const salt = (i: number) => new Uint8Array(32).fill(0).map((_, j) => (i >> (8 * (j % 4))) & 0xff);

Deno.test("salt filter: a salt is refused the second time", () => {
  const f = new SaltFilter(1024);
  assert.equal(f.check(salt(1)), false);
  assert.equal(f.check(salt(2)), false);
  assert.equal(f.check(salt(1)), true);
});

Deno.test("salt filter: memory stays within two generations, recent salts still refused", () => {
  const f = new SaltFilter(1000);
  for (let i = 0; i < 10_000; i++) f.check(salt(i));
  assert.ok(f.size <= 2000, `size ${f.size}`);
  assert.equal(f.check(salt(9_999)), true);
  assert.equal(f.check(salt(9_100)), true);
  // far older salts have been forgotten: the bound is what makes memory finite
  assert.equal(f.check(salt(5)), false);
});

Deno.test("salt filter: generations also rotate by age (2022: at least 60 s)", () => {
  let now = 0;
  const f = new SaltFilter(1 << 16, 60_000, () => now);
  f.check(salt(1));
  now = 61_000;
  f.check(salt(2)); // rotates: salt 1 is in the previous generation
  assert.equal(f.check(salt(1)), true);
  now = 122_000;
  f.check(salt(3)); // rotates again: salt 1 is gone after 2 minutes
  assert.equal(f.check(salt(1)), false);
});
