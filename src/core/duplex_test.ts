import assert from "node:assert/strict";
import { layerDuplex, streamDuplex } from "./duplex.ts";

Deno.test("layerDuplex: the layer's streams, the addresses below, and close reaching below once", () => {
  let closes = 0;
  const below = streamDuplex({
    readable: new ReadableStream(),
    writable: new WritableStream(),
    close: () => closes++,
    local: "127.0.0.1:1",
    remote: "127.0.0.1:2",
  });
  const readable = new ReadableStream<Uint8Array>();
  const writable = new WritableStream<Uint8Array>();
  const d = layerDuplex(below, readable, writable, true);
  assert.equal(d.readable, readable);
  assert.equal(d.writable, writable);
  assert.deepEqual([d.local, d.remote, d.datagram], ["127.0.0.1:1", "127.0.0.1:2", true]);
  assert.equal(layerDuplex(below, readable, writable).datagram, undefined);
  d.close();
  d.close();
  assert.equal(closes, 1);
});
