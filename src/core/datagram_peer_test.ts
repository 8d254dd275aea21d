import assert from "node:assert/strict";
import { closeIdle, DatagramPeer, type DatagramPeerOwner, DatagramPeers } from "./datagram_peer.ts";

function owner() {
  const sent: string[] = [];
  const forgotten: DatagramPeer[] = [];
  const o: DatagramPeerOwner = {
    send(chunk) {
      sent.push(new TextDecoder().decode(chunk));
      return Promise.resolve();
    },
    forget(p) {
      forgotten.push(p);
    },
  };
  return { o, sent, forgotten };
}

Deno.test("DatagramPeer: queues up to queueSize datagrams, drops newer ones, ends on close", async () => {
  const { o, forgotten } = owner();
  const p = new DatagramPeer("127.0.0.1:1", "127.0.0.1:2", o, 2);
  assert.equal(p.push(new Uint8Array([1])), true);
  assert.equal(p.push(new Uint8Array([2])), true);
  assert.equal(p.push(new Uint8Array([3])), false);
  p.close();
  assert.equal(p.push(new Uint8Array([4])), false);
  const got: number[] = [];
  for await (const d of p.readable) got.push(...d);
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(forgotten, [p]);
});

Deno.test("DatagramPeer: a send clears idle; closeIdle closes a peer idle for a whole check", async () => {
  const { o, sent } = owner();
  const a = new DatagramPeer("a", "", o, 4);
  const b = new DatagramPeer("b", "", o, 4);
  closeIdle([a, b]);
  assert.equal(a.idle && b.idle, true);
  const w = a.writable.getWriter();
  await w.write(new TextEncoder().encode("hi"));
  assert.deepEqual(sent, ["hi"]);
  closeIdle([a, b]);
  assert.equal(a.closed, false);
  assert.equal(b.closed, true);
  a.close();
  await w.write(new TextEncoder().encode("late"));
  assert.deepEqual(sent, ["hi"], "a closed peer sends nothing");
});

Deno.test("DatagramPeers: one peer per address, handed to next(); a full backlog sheds new ones; close ends all", async () => {
  const peers = new DatagramPeers<DatagramPeer>(1, 60_000);
  const { o } = owner();
  const forgetting: DatagramPeerOwner = { send: o.send, forget: (p) => peers.forget(p) };
  const make = (addr: string) => () => new DatagramPeer(addr, "", forgetting, 4);
  const a = peers.get("a", make("a"))!;
  assert.equal(peers.get("a", () => assert.fail("a exists")), a);
  assert.equal(peers.get("b", () => assert.fail("backlog full: not created")), undefined);
  assert.equal(await peers.next(), a);
  const b = peers.get("b", make("b"))!;
  assert.equal(peers.size, 2);
  a.close();
  assert.equal(peers.size, 1);
  const waiting = peers.next();
  assert.equal(await waiting, b, "b was queued before this next()");
  const more = peers.next();
  peers.close();
  assert.equal(await more, null);
  assert.equal(b.closed, true);
  assert.equal(peers.size, 0);
});
