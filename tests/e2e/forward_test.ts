/**
 * Local TCP and UDP port forwarding through the real CLI (issue 2, seed "Local Port Forwarding").
 */
import assert from "node:assert/strict";
import {
  freePort,
  freeUdpPort,
  httpServer,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
} from "../_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A TCP server that answers every connection with `id` and closes. */
function idServer(id: string): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) {
      c.write(enc.encode(id)).then(() => c.close()).catch(() => {});
    }
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

async function readAllFrom(port: number): Promise<string> {
  return dec.decode(await tcpRoundTrip(port, new Uint8Array(0)));
}

Deno.test("tcp forward: an HTTP server behind the forward answers as if reached directly", async () => {
  const body = "hello through gost-deno\n".repeat(1000);
  const server = httpServer(() => new Response(body));
  const port = freePort();
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${server.port}`]);
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), body);
    }
  } finally {
    assert.equal(await g.stop(), 0, "SIGTERM stops with exit 0");
    await server.close();
  }
  {
    // One JSON log line per connection, with gost's field names (keep-alive connections are
    // logged when the stop closes them).
    const line = g.stderr().split("\n").find((l) => l.includes('"outputBytes"'))!;
    const rec = JSON.parse(line);
    assert.equal(rec.service, "service-0");
    assert.equal(rec.handler, "tcp");
    assert.equal(rec.dst, `127.0.0.1:${server.port}`);
    assert.match(rec.client, /^127\.0\.0\.1:\d+$/);
    assert.ok(rec.inputBytes > 0 && rec.outputBytes > body.length, "bytes counted both ways");
    assert.ok(Number.isInteger(rec.duration) && rec.duration > 0, "duration in integer nanoseconds");
    assert.match(rec.sid, /^[0-9a-v]{20}$/);
    assert.equal(rec.network, "tcp");
    assert.equal(rec.host, rec.dst);
  }
});

Deno.test("tcp forward: 8 MiB both ways intact, half-close carried, several -L in one process", async () => {
  // `using`: stopped and closed at the end of the test, gost first (reverse order), even on failure.
  using echo = tcpEchoServer();
  const [p1, p2] = [freePort(), freePort()];
  await using _g = await startGost([
    "-L",
    `tcp://127.0.0.1:${p1}/127.0.0.1:${echo.port}`,
    "-L",
    `tcp://127.0.0.1:${p2}/127.0.0.1:${echo.port}`,
  ], 2);
  const data = randomBytes(8 << 20, 7);
  const [a, b] = await Promise.all([tcpRoundTrip(p1, data), tcpRoundTrip(p2, data.subarray(0, 1 << 20))]);
  assert.equal(await sha256(a), await sha256(data));
  assert.equal(await sha256(b), await sha256(data.subarray(0, 1 << 20)));
});

Deno.test("tcp forward: round robin over three targets, in turn", async () => {
  const servers = ["A", "B", "C"].map(idServer);
  const port = freePort();
  const targets = servers.map((s) => `127.0.0.1:${s.port}`).join(",");
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/${targets}?strategy=round`]);
  try {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await readAllFrom(port));
    assert.deepEqual(seen, ["A", "B", "C", "A", "B", "C"]);
  } finally {
    await g.stop();
    servers.forEach((s) => s.close());
  }
});

Deno.test("tcp forward: a dead target is skipped, the client never sees the failure", async () => {
  const alive = idServer("alive");
  const dead = freePort(); // nothing listens here
  const port = freePort();
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${dead},127.0.0.1:${alive.port}`]);
  try {
    for (let i = 0; i < 6; i++) assert.equal(await readAllFrom(port), "alive", `connection ${i}`);
  } finally {
    await g.stop();
    alive.close();
  }
});

Deno.test("tcp forward: every target down is a logged error and a closed client connection", async () => {
  const port = freePort();
  const dead = freePort();
  await using g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${dead}`]);
  assert.equal((await tcpRoundTrip(port, enc.encode("x"))).length, 0);
  await g.waitFor(`127.0.0.1:${dead}`);
  assert.match(g.stderr(), /"level":"error".*Connection refused|"level":"error".*refused/i);
});

/** A UDP server answering each datagram with the source port it came from. */
function portEcho(): { port: number; close(): void } {
  const s = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  (async () => {
    for (;;) {
      const [data, from] = await s.receive();
      await s.send(enc.encode(`${dec.decode(data)}:${(from as Deno.NetAddr).port}`), from);
    }
  })().catch(() => {});
  return { port: (s.addr as Deno.NetAddr).port, close: () => s.close() };
}

async function exchange(sock: Deno.DatagramConn, port: number, text: string): Promise<string> {
  await sock.send(enc.encode(text), { transport: "udp", hostname: "127.0.0.1", port });
  const [data] = await sock.receive();
  return dec.decode(data);
}

Deno.test("udp forward: keepAlive=false opens a new channel per exchange, keepAlive=true keeps one", async () => {
  const target = portEcho();
  const [p1, p2] = [freeUdpPort(), freeUdpPort()];
  const g = await startGost([
    "-L",
    `udp://127.0.0.1:${p1}/127.0.0.1:${target.port}`,
    "-L",
    `udp://127.0.0.1:${p2}/127.0.0.1:${target.port}?keepAlive=true&ttl=1s`,
  ], 2);
  const client = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    const srcPort = (s: string) => s.split(":")[1];
    const a1 = await exchange(client, p1, "one");
    const a2 = await exchange(client, p1, "two");
    assert.match(a1, /^one:\d+$/);
    assert.match(a2, /^two:\d+$/);
    assert.notEqual(srcPort(a1), srcPort(a2), "without keepAlive each exchange is a new channel");
    const k1 = await exchange(client, p2, "one");
    const k2 = await exchange(client, p2, "two");
    assert.equal(srcPort(k1), srcPort(k2), "with keepAlive the channel (and its upstream socket) is kept");
    // Idle for more than two ttl checks: the channel closes, the next exchange gets a new one.
    await new Promise((r) => setTimeout(r, 2500));
    const k3 = await exchange(client, p2, "three");
    assert.notEqual(srcPort(k3), srcPort(k1), "an idle channel was closed within two checks");
  } finally {
    client.close();
    await g.stop();
    target.close();
  }
});

Deno.test("udp forward: the seed's multi-target command line answers from a live target", async () => {
  using echo = udpEchoServer("echo:");
  const port = freeUdpPort();
  await using _g = await startGost([
    "-L",
    `udp://127.0.0.1:${port}/127.0.0.1:${echo.port}?keepAlive=true&ttl=5s`,
  ]);
  const client = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    for (let i = 0; i < 5; i++) assert.equal(await exchange(client, port, `q${i}`), `echo:q${i}`);
  } finally {
    client.close();
  }
});
