import assert from "node:assert/strict";
import {
  freePort,
  freeUdpPort,
  randomBytes,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../../tests/_helpers.ts";
import { configureLog } from "../core/log.ts";
import { buildRuntime } from "./build.ts";

configureLog({ sink: () => {} });

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("service: live connections return to zero after TCP and UDP traffic", async () => {
  const echo = tcpEchoServer();
  const uecho = udpEchoServer("re:");
  const [tp, up] = [freePort(), freeUdpPort()];
  const { runtime, errors } = await buildRuntime({
    services: [
      {
        name: "t",
        addr: `127.0.0.1:${tp}`,
        handler: { type: "tcp" },
        listener: { type: "tcp" },
        forwarder: { nodes: [{ name: "e", addr: `127.0.0.1:${echo.port}` }] },
      },
      {
        name: "u",
        addr: `127.0.0.1:${up}`,
        handler: { type: "udp" },
        listener: { type: "udp" },
        forwarder: { nodes: [{ name: "e", addr: `127.0.0.1:${uecho.port}` }] },
      },
    ],
  });
  assert.deepEqual(errors, []);
  const [tcp, udp] = runtime!.services;
  await tcp.start();
  await udp.start();
  try {
    const data = randomBytes(100_000);
    await Promise.all(Array.from({ length: 20 }, () => tcpRoundTrip(tp, data)));
    for (let i = 0; i < 10; i++) {
      assert.equal(new TextDecoder().decode((await udpRoundTrip(up, `x${i}`))!), `re:x${i}`);
    }
    await until(() => tcp.liveConnections === 0 && udp.liveConnections === 0);
  } finally {
    await tcp.close();
    await udp.close();
    echo.close();
    uecho.close();
  }
});

Deno.test("service: close() ends live connections and their handlers", async () => {
  const echo = tcpEchoServer();
  const tp = freePort();
  const { runtime } = await buildRuntime({
    services: [{
      name: "t",
      addr: `127.0.0.1:${tp}`,
      handler: { type: "tcp" },
      listener: { type: "tcp" },
      forwarder: { nodes: [{ name: "e", addr: `127.0.0.1:${echo.port}` }] },
    }],
  });
  const svc = runtime!.services[0];
  await svc.start();
  const conns = await Promise.all(
    Array.from({ length: 5 }, () => Deno.connect({ hostname: "127.0.0.1", port: tp })),
  );
  await until(() => svc.liveConnections === 5);
  await svc.close();
  assert.equal(svc.liveConnections, 0);
  for (const c of conns) {
    assert.equal(await c.read(new Uint8Array(1)).catch(() => null), null, "client sees the end");
    c.close();
  }
  echo.close();
});
