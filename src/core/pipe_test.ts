import assert from "node:assert/strict";
import { BrokenPipe, duplexPair } from "./pipe.ts";
import { relay } from "./relay.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("duplexPair: bytes cross both ways; a write's buffer may be reused at once", async () => {
  const [a, b] = duplexPair({ addrs: ["1.1.1.1:1", "2.2.2.2:2"] });
  assert.equal(a.local, "1.1.1.1:1");
  assert.equal(a.remote, "2.2.2.2:2");
  assert.equal(b.local, "2.2.2.2:2");
  const buf = text("ping");
  await a.direct!.write(buf);
  buf.fill(0);
  const got = new Uint8Array(10);
  assert.equal(str(got.subarray(0, (await b.direct!.read(got))!)), "ping");
  await b.direct!.write(text("pong"));
  assert.equal(str(got.subarray(0, (await a.direct!.read(got))!)), "pong");
  a.close();
  b.close();
});

Deno.test("duplexPair: half-close gives EOF one way, the other way goes on", async () => {
  const [a, b] = duplexPair();
  await a.direct!.write(text("last"));
  await a.direct!.closeWrite();
  const got = new Uint8Array(10);
  assert.equal(await b.direct!.read(got), 4);
  assert.equal(await b.direct!.read(got), null);
  await b.direct!.write(text("reply"));
  assert.equal(await a.direct!.read(got), 5);
  a.close();
  b.close();
});

Deno.test("duplexPair: close() — the peer reads what was sent, then EOF; its writes fail", async () => {
  const [a, b] = duplexPair();
  await a.direct!.write(text("bye"));
  a.close();
  const got = new Uint8Array(10);
  assert.equal(await b.direct!.read(got), 3);
  assert.equal(await b.direct!.read(got), null);
  await assert.rejects(() => b.direct!.write(text("x")), BrokenPipe);
  b.close();
});

Deno.test("duplexPair: writes wait while the reader lags (bounded queue)", async () => {
  const [a, b] = duplexPair({ capacity: 1000 });
  let done = 0;
  const writes = [0, 1, 2, 3].map(() => a.direct!.write(new Uint8Array(600)).then(() => done++));
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(done <= 1, `${done} writes finished past a 1000-byte capacity`);
  const buf = new Uint8Array(4096);
  let got = 0;
  while (got < 2400) got += (await b.direct!.read(buf))!;
  await Promise.all(writes);
  a.close();
  b.close();
});

Deno.test("duplexPair: streams work too, and relay() carries data both ways", async () => {
  const [client, proxyIn] = duplexPair();
  const [proxyOut, server] = duplexPair();
  const relaying = relay(proxyIn, proxyOut);
  const serving = (async () => {
    const r = server.readable.getReader();
    const w = server.writable.getWriter();
    for (;;) {
      const x = await r.read();
      if (x.done) break;
      await w.write(x.value);
    }
    await w.close();
  })();
  const w = client.writable.getWriter();
  await w.write(text("hello "));
  await w.write(text("world"));
  await w.close();
  let back = "";
  for await (const c of client.readable) back += str(c);
  assert.equal(back, "hello world");
  const stats = await relaying;
  assert.deepEqual(stats, { inputBytes: 11, outputBytes: 11 });
  await serving;
  client.close();
  server.close();
});
