/**
 * The socks5 handler after CONNECT: the relay keeps both sockets' direct path (four streams
 * through the proxy are CPU-bound on the bench machine, and piping Web Streams costs several
 * times more per byte), also when the client pipelined its request and data behind the greeting.
 */
import assert from "node:assert/strict";
import { socks5Handler } from "./socks5.ts";
import { handlerInit, probedRouter, quietContext, readN, socketPair } from "../../tests/_direct.ts";
import { tcpEchoServer } from "../../tests/_helpers.ts";

const enc = new TextEncoder(), dec = new TextDecoder();
const GREETING = [5, 1, 0]; // version 5, one method: no authentication
const connectTo = (port: number) => [5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff];

for (const pipelined of [false, true]) {
  Deno.test(`socks5 handler: CONNECT relays on the direct path${pipelined ? " (pipelined with data)" : ""}`, async () => {
    using echo = tcpEchoServer();
    const router = probedRouter(echo.port);
    const init = handlerInit(router);
    const handler = socks5Handler.create(init, socks5Handler.options.parse({ notls: true }, "h"));
    const { client, server } = await socketPair();
    const ctx = quietContext();
    const done = handler.handle(server, ctx);
    if (pipelined) {
      await client.write(Uint8Array.from([...GREETING, ...connectTo(echo.port), ...enc.encode("early")]));
    } else {
      await client.write(Uint8Array.from(GREETING));
      assert.deepEqual([...await readN(client, 2)], [5, 0]);
      await client.write(Uint8Array.from(connectTo(echo.port)));
    }
    const replies = await readN(client, pipelined ? 12 : 10);
    assert.deepEqual([...replies.subarray(pipelined ? 2 : 0, (pipelined ? 2 : 0) + 2)], [5, 0]);
    if (pipelined) assert.equal(dec.decode(await readN(client, 5)), "early");
    await client.write(enc.encode("hello"));
    assert.equal(dec.decode(await readN(client, 5)), "hello");
    await client.closeWrite();
    assert.equal((await readN(client, 1)).length, 0); // the echo's end came back through
    await done;
    client.close();
    assert.deepEqual(server.streamsTaken, [], "the client socket's streams were taken");
    assert.equal(router.dialled.length, 1);
    assert.deepEqual(router.dialled[0].streamsTaken, [], "the target socket's streams were taken");
    assert.equal(ctx.record.inputBytes, (pipelined ? 5 : 0) + 5);
  });
}
