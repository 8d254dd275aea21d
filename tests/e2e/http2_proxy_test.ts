/**
 * The http2 proxy (handler, connector, listener and dialer) through the real CLI: CONNECT over
 * one shared TLS HTTP/2 connection, Basic auth, a relay hop before it, and gost's "wrong
 * connection type" for http2 over h2c.
 */
import { deepStrictEqual, equal, match, rejects } from "node:assert/strict";
import {
  checkAsSecondHop,
  countingTee,
  freePort,
  randomBytes,
  sha256,
  startGost,
  streamRoundTrip,
  tcpEchoServer,
  waitUntil,
} from "../_helpers.ts";

Deno.test("http2 proxy: CONNECT streams share one TLS connection; 4 MiB intact; a wrong password gets 407", async () => {
  const echo = tcpEchoServer();
  const [proxyPort, fwdPort, badPort] = [freePort(), freePort(), freePort()];
  const server = await startGost(["-L", `http2://u:p@127.0.0.1:${proxyPort}`]);
  const tee = countingTee(proxyPort);
  const client = await startGost([
    "-L",
    `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
    "-F",
    `http2://u:p@127.0.0.1:${tee.port}`,
  ]);
  const bad = await startGost([
    "-L",
    `tcp://127.0.0.1:${badPort}/127.0.0.1:${echo.port}`,
    "-F",
    `http2://u:wrong@127.0.0.1:${proxyPort}`,
  ]);
  try {
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(3000 + i * 7, i + 1));
    const back = await Promise.all(payloads.map((p) => streamRoundTrip(fwdPort, p)));
    back.forEach((b, i) => deepStrictEqual(b, payloads[i]));
    equal(tee.accepted(), 1);
    const big = randomBytes(4 << 20, 9);
    equal(await sha256(await streamRoundTrip(fwdPort, big)), await sha256(big));

    const refused = await streamRoundTrip(badPort, randomBytes(100, 1)).catch(() => new Uint8Array(0));
    equal(refused.length, 0);
    await waitUntil(() => /CONNECT 127\.0\.0\.1:\d+: 407/.test(bad.stderr()), "the 407 logged", 5000);
    match(server.stderr(), /http2: proxy authentication failed/);
  } finally {
    await bad.stop();
    await client.stop();
    await server.stop();
    tee.close();
    echo.close();
  }
});

Deno.test("http2 proxy as the second hop, reached through a relay node", () => checkAsSecondHop("http2"));

Deno.test("http2+h2c: the http2 handler and connector refuse a tunnel stream (wrong connection type), as gost", async () => {
  const echo = tcpEchoServer();
  const [port, fwdPort] = [freePort(), freePort()];
  const server = await startGost(["-L", `http2+h2c://127.0.0.1:${port}`]);
  const client = await startGost([
    "-L",
    `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
    "-F",
    `http2+h2c://127.0.0.1:${port}`,
  ]);
  try {
    await rejects(async () => {
      const back = await streamRoundTrip(fwdPort, randomBytes(10, 1));
      if (back.length === 0) throw new Error("closed");
    });
    await waitUntil(
      () => /wrong connection type/.test(client.stderr()),
      "wrong connection type logged",
      5000,
    );
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
});
