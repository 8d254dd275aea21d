/**
 * The http handler after CONNECT: the relay keeps both sockets' direct path (four streams through
 * the proxy are CPU-bound on the bench machine, and piping Web Streams costs several times more
 * per byte), also when the client's first bytes came with the request head.
 */
import assert from "node:assert/strict";
import { httpHandler } from "./http.ts";
import { handlerInit, probedRouter, quietContext, readN, socketPair } from "../../tests/_direct.ts";
import { tcpEchoServer } from "../../tests/_helpers.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

for (const early of ["", "early"]) {
  Deno.test(`http handler: CONNECT relays on the direct path${early ? " (data sent with the head)" : ""}`, async () => {
    using echo = tcpEchoServer();
    const router = probedRouter(echo.port);
    const init = handlerInit(router);
    const handler = httpHandler.create(init, httpHandler.options.parse({}, "h"));
    const { client, server } = await socketPair();
    const ctx = quietContext();
    const done = handler.handle(server, ctx);
    const target = `127.0.0.1:${echo.port}`;
    await client.write(enc.encode(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${early}`));
    const head = dec.decode(await readN(client, 39));
    assert.match(head, /^HTTP\/1\.1 200 Connection established\r\n/);
    let rest = dec.decode(await readN(client, 1));
    while (!rest.includes("\r\n\r\n")) rest += dec.decode(await readN(client, 1));
    if (early) assert.equal(dec.decode(await readN(client, early.length)), early);
    await client.write(enc.encode("hello"));
    assert.equal(dec.decode(await readN(client, 5)), "hello");
    await client.closeWrite();
    assert.equal((await readN(client, 1)).length, 0); // the echo's end came back through
    await done;
    client.close();
    assert.deepEqual(server.streamsTaken, [], "the client socket's streams were taken");
    assert.equal(router.dialled.length, 1);
    assert.deepEqual(router.dialled[0].streamsTaken, [], "the target socket's streams were taken");
    assert.equal(ctx.record.inputBytes, early.length + 5);
  });
}
