import assert from "node:assert/strict";
import { BufferPool, QUIET_READS, ReadSizer, ScratchBuffer } from "./read_buffer.ts";

Deno.test("read sizer: grows ×4 while reads fill the buffer, up to max", () => {
  const s = new ReadSizer(4, 100);
  assert.equal(s.size, 4);
  assert.equal(s.update(3), false);
  assert.equal(s.update(4), true);
  assert.equal(s.size, 16);
  assert.equal(s.update(16), true);
  assert.equal(s.size, 64);
  assert.equal(s.update(64), true);
  assert.equal(s.size, 100);
  assert.equal(s.update(100), false);
  assert.equal(s.size, 100);
});

Deno.test("read sizer: gives a grown size back after a run of small reads, never without shrinkAfter", () => {
  const s = new ReadSizer(4, 64, 3);
  s.update(4);
  s.update(16);
  assert.equal(s.size, 64);
  assert.equal(s.update(2), false);
  assert.equal(s.update(10), false); // a larger read restarts the count
  assert.equal(s.update(1), false);
  assert.equal(s.update(4), false);
  assert.equal(s.update(3), true);
  assert.equal(s.size, 4);
  const keep = new ReadSizer(4, 64);
  keep.update(4);
  for (let i = 0; i < 10; i++) assert.equal(keep.update(1), false);
  assert.equal(keep.size, 16);
});

Deno.test("read sizer: filled(capacity) grows from a capacity sized by need", () => {
  const s = new ReadSizer(4, 100);
  assert.equal(s.filled(20), true);
  assert.equal(s.size, 80);
  assert.equal(s.filled(100), false);
  assert.equal(s.size, 80);
});

Deno.test("scratch buffer: reused between uses, grows to need, fresh while lent, shrinks after quiet uses", () => {
  const s = new ScratchBuffer(8);
  assert.equal(s.held, 0);
  const a = s.take(4);
  assert.equal(a.length, 8);
  const lent = s.take(4);
  assert.notEqual(lent, a);
  s.give(lent);
  s.give(a);
  assert.equal(s.take(6), a);
  s.give(a);
  const big = s.take(100);
  assert.equal(big.length, 100);
  s.give(big);
  for (let i = 0; i < QUIET_READS - 1; i++) {
    assert.equal(s.take(2), big);
    s.give(big);
  }
  const small = s.take(2);
  assert.equal(small.length, 8);
  s.give(small);
  assert.equal(s.held, 8);
});

Deno.test("ScratchBuffer: uses below freshBelow get buffers of their own and drop a grown one after a quiet run", () => {
  const s = new ScratchBuffer(0, 100);
  const small = s.take(10);
  assert.equal(small.length, 10);
  s.give(small);
  assert.equal(s.held, 0, "small uses hold nothing");
  const big = s.take(500);
  s.give(big);
  assert.equal(s.take(400), big, "a bulk use reuses the kept buffer");
  s.give(big);
  for (let i = 0; i < QUIET_READS - 1; i++) s.give(s.take(5));
  assert.equal(s.held, 500, "kept until the quiet run ends");
  s.give(s.take(5));
  assert.equal(s.held, 0);
});

Deno.test("BufferPool: hands back its own buffers, keeps at most max, refuses others and duplicates", () => {
  const pool = new BufferPool(16, 2);
  const a = pool.take(), b = pool.take(), c = pool.take();
  assert.equal(a.length, 16);
  assert.notEqual(a, b);
  pool.give(a);
  pool.give(a); // twice: kept once
  assert.equal(pool.free, 1);
  pool.give(new Uint8Array(32)); // another size
  pool.give(new Uint8Array(64).subarray(0, 16)); // a view into a larger buffer
  pool.give(new Uint8Array(32).subarray(16)); // a view at an offset
  assert.equal(pool.free, 1);
  pool.give(b);
  pool.give(c); // beyond max
  assert.equal(pool.free, 2);
  const again = new Set([pool.take(), pool.take()]);
  assert.ok(again.has(a) && again.has(b));
  assert.equal(pool.free, 0);
  assert.ok(pool.take() !== a, "an empty pool allocates");
});
