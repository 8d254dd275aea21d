/**
 * The seed page "Proxy, Forwarding and Tunnel": adding and removing a KCP data channel in front of a
 * shadowsocks service. Each "equivalent to" claim is checked by sending the same requests through
 * both setups and comparing what comes back.
 */
import assert from "node:assert/strict";
import {
  freePort,
  freeUdpPort,
  type GostProcess,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
} from "../_helpers.ts";

const SS = "aes-256-gcm:seedpass";

/** A local entry that reaches the echo server through one ss node at `node`. */
async function ssClient(node: string, echoPort: number): Promise<{ port: number; g: GostProcess }> {
  const port = freePort();
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echoPort}`, "-F", node]);
  return { port, g };
}

/** The same requests through `port`: results that must match between equivalent setups. */
async function requests(port: number): Promise<string[]> {
  const out: string[] = [];
  for (const size of [1, 1000, 300_000]) {
    out.push(await sha256(await tcpRoundTrip(port, randomBytes(size, size))));
  }
  return out;
}

Deno.test("seed: kcp://:8338/:8388 + ss://:8388 is equivalent to ss+kcp://:8338", async () => {
  const echo = tcpEchoServer();
  const procs: GostProcess[] = [];
  try {
    const [k1, s1, k2] = [freeUdpPort(), freePort(), freeUdpPort()];
    procs.push(
      await startGost(["-L", `kcp://127.0.0.1:${k1}/127.0.0.1:${s1}`, "-L", `ss://${SS}@127.0.0.1:${s1}`], 2),
    );
    procs.push(await startGost(["-L", `ss+kcp://${SS}@127.0.0.1:${k2}`]));
    const a = await ssClient(`ss+kcp://${SS}@127.0.0.1:${k1}`, echo.port);
    const b = await ssClient(`ss+kcp://${SS}@127.0.0.1:${k2}`, echo.port);
    procs.push(a.g, b.g);
    const expected = await Promise.all([1, 1000, 300_000].map((n) => sha256(randomBytes(n, n))));
    assert.deepEqual(await requests(a.port), expected);
    assert.deepEqual(await requests(b.port), expected);
  } finally {
    for (const p of procs) await p.stop();
    echo.close();
  }
});

Deno.test("seed: ss+kcp://:8338 with tcp://:8080 -F forward+kcp://:8338 is equivalent to ss://:8080", async () => {
  const echo = tcpEchoServer();
  const procs: GostProcess[] = [];
  try {
    const [k, t, direct] = [freeUdpPort(), freePort(), freePort()];
    procs.push(await startGost(["-L", `ss+kcp://${SS}@127.0.0.1:${k}`]));
    procs.push(await startGost(["-L", `tcp://127.0.0.1:${t}`, "-F", `forward+kcp://127.0.0.1:${k}`]));
    procs.push(await startGost(["-L", `ss://${SS}@127.0.0.1:${direct}`]));
    const viaRemoved = await ssClient(`ss://${SS}@127.0.0.1:${t}`, echo.port);
    const viaPlain = await ssClient(`ss://${SS}@127.0.0.1:${direct}`, echo.port);
    procs.push(viaRemoved.g, viaPlain.g);
    assert.deepEqual(await requests(viaRemoved.port), await requests(viaPlain.port));
  } finally {
    for (const p of procs) await p.stop();
    echo.close();
  }
});
