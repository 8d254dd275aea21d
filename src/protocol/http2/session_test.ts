import assert from "node:assert/strict";
import { concat } from "../../core/bytes.ts";
import { duplexPair } from "../../core/pipe.ts";
import type { Duplex } from "../../core/duplex.ts";
import { encodeFrame, ErrorCode, FrameType, PREFACE, Setting } from "./frame.ts";
import { Http2Session } from "./session.ts";
import { StreamResetError } from "./stream.ts";

const text = (s: string) => new TextEncoder().encode(s);

async function readAll(d: Duplex): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of d.readable) parts.push(c);
  return concat(parts);
}

function pair(serverWindow = 1 << 20) {
  const [a, b] = duplexPair();
  const client = new Http2Session(a, {
    client: true,
    settings: [[Setting.ENABLE_PUSH, 0], [Setting.INITIAL_WINDOW_SIZE, 4 << 20]],
    connectionWindowIncrement: 1 << 30,
  });
  const server = new Http2Session(b, {
    client: false,
    settings: [[Setting.MAX_FRAME_SIZE, 1 << 20], [Setting.INITIAL_WINDOW_SIZE, serverWindow]],
    connectionWindowIncrement: serverWindow,
  });
  return { client, server };
}

Deno.test("http2 session: a CONNECT stream carries bytes both ways and ends with END_STREAM", async () => {
  const { client, server } = pair();
  const req = await client.request([[":method", "CONNECT"], [":authority", "example:443"]]);
  const s = (await server.accept())!;
  assert.equal(s.header(":method"), "CONNECT");
  assert.equal(s.header(":authority"), "example:443");
  await s.respond([[":status", "200"]]);
  assert.equal((await req.waitHeaders())?.find(([n]) => n === ":status")?.[1], "200");
  const big = crypto.getRandomValues(new Uint8Array(60_000));
  const payload = new Uint8Array(3 << 20);
  for (let i = 0; i < payload.length; i += big.length) payload.set(big.subarray(0, payload.length - i), i);
  const echo = (async () => {
    const got = await readAll(s);
    await s.write(got);
    await s.end();
  })();
  const w = req.writable.getWriter();
  await w.write(payload);
  await w.close();
  const back = await readAll(req);
  await echo;
  assert.deepEqual(back, payload);
  assert.equal(client.streamCount, 0);
  client.close();
  server.close();
  await Promise.all([client.done, server.done]);
});

Deno.test("http2 session: a reader that stops holds its peer within the stream window; others go on", async () => {
  const window = 64 * 1024;
  const { client, server } = pair(window);
  const slow = await client.request([[":method", "CONNECT"], [":authority", "a:1"]]);
  const fast = await client.request([[":method", "CONNECT"], [":authority", "b:1"]]);
  const s1 = (await server.accept())!, s2 = (await server.accept())!;
  // The slow stream's writer cannot get past the server's window while nobody reads.
  let written = 0;
  const writing = (async () => {
    const chunk = new Uint8Array(16 * 1024);
    for (let i = 0; i < 16; i++) {
      await slow.write(chunk);
      written += chunk.length;
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(written <= window, `${written} written past a ${window} window`);
  // Meanwhile another stream moves freely.
  await fast.write(text("hello"));
  const r2 = s2.readable.getReader();
  assert.deepEqual((await r2.read()).value, text("hello"));
  // Reading the slow stream releases the writer.
  const r1 = s1.readable.getReader();
  let read = 0;
  while (read < 16 * 16 * 1024) read += (await r1.read()).value!.length;
  await writing;
  client.close();
  server.close();
});

Deno.test("http2 session: a reset stream fails its reader and writer; the session goes on", async () => {
  const { client, server } = pair();
  const req = await client.request([[":method", "CONNECT"], [":authority", "a:1"]]);
  const s = (await server.accept())!;
  s.reset(ErrorCode.REFUSED_STREAM);
  await assert.rejects(() => readAll(req), StreamResetError);
  await assert.rejects(() => req.write(text("x")), StreamResetError);
  const again = await client.request([[":method", "CONNECT"], [":authority", "b:1"]]);
  assert.equal(again.id, 3);
  assert.equal((await server.accept())!.header(":authority"), "b:1");
  client.close();
  server.close();
});

Deno.test("http2 session: a server ends a peer without the preface; garbage ends the session with GOAWAY", async () => {
  const [a, b] = duplexPair();
  const server = new Http2Session(b, { client: false });
  const w = a.writable.getWriter();
  await w.write(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await server.done;
  assert.ok(server.closed);

  const [c, d] = duplexPair();
  const server2 = new Http2Session(d, { client: false });
  const w2 = c.writable.getWriter();
  // A frame longer than the default 16384 maximum.
  const huge = encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(20_000));
  await w2.write(PREFACE);
  await w2.write(huge).catch(() => {});
  await server2.done;
  assert.ok(server2.closed);
  assert.equal(await server2.accept(), null);
});
