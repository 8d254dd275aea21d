import assert from "node:assert/strict";
import { AcceptQueue } from "./accept_queue.ts";

class Item {
  closed = false;
  constructor(readonly id: number) {}
  close() {
    this.closed = true;
  }
}

Deno.test("AcceptQueue: a waiting taker gets the item at once; otherwise items queue in order", async () => {
  const q = new AcceptQueue<Item>(4);
  const waiting = q.next();
  assert.equal(q.offer(new Item(1)), true);
  assert.equal((await waiting)?.id, 1);
  q.offer(new Item(2));
  q.offer(new Item(3));
  assert.equal(q.size, 2);
  assert.equal((await q.next())?.id, 2);
  assert.equal((await q.next())?.id, 3);
});

Deno.test("AcceptQueue: the backlog bounds the queue, not the hand-off to a waiting taker", async () => {
  const q = new AcceptQueue<Item>(1);
  assert.equal(q.full, false);
  assert.equal(q.offer(new Item(1)), true);
  assert.equal(q.full, true);
  assert.equal(q.offer(new Item(2)), false);
  await q.next();
  const waiting = q.next();
  assert.equal(q.full, false);
  assert.equal(q.offer(new Item(3)), true);
  assert.equal((await waiting)?.id, 3);
});

Deno.test("AcceptQueue: close wakes takers with null, closes what nobody took, refuses more", async () => {
  const q = new AcceptQueue<Item>(4);
  const waiting = q.next();
  q.close();
  assert.equal(await waiting, null);

  const q2 = new AcceptQueue<Item>(4);
  const left = new Item(1);
  q2.offer(left);
  q2.close();
  q2.close();
  assert.equal(left.closed, true);
  assert.equal(await q2.next(), null);
  assert.equal(q2.full, true);
  assert.equal(q2.offer(new Item(2)), false);
});
