/**
 * gost-deno ss/ssu end to end through the CLI: client and server both ours, every method
 * (2022 included, TCP and UDP), the silent failure path, replay refusal, NAT rebinding of a
 * 2022 UDP session, start-up errors and SIP002 URLs.
 */
import assert from "node:assert/strict";
import { encodeSocksAddr } from "../../src/core/socks_addr.ts";
import { lookupMethod, methodKey } from "../../src/protocol/ss/cipher.ts";
import { ClientSession } from "../../src/protocol/ss/udp2022_session.ts";
import {
  freePort,
  freeUdpPort,
  randomBytes,
  runGost,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";

const KEY16 = btoa(String.fromCharCode(...randomBytes(16, 3)));
const KEY32 = btoa(String.fromCharCode(...randomBytes(32, 4)));
const METHODS: [string, string][] = [
  ["aes-128-gcm", "pass"],
  ["aes-256-gcm", "pass"],
  ["chacha20-ietf-poly1305", "pass"],
  ["2022-blake3-aes-128-gcm", KEY16],
  ["2022-blake3-aes-256-gcm", KEY32],
];

for (const [method, secret] of METHODS) {
  Deno.test(`e2e ${method}: gost-deno ss client → gost-deno ss server, 4 MiB with half-close`, async () => {
    const echo = tcpEchoServer();
    const ssPort = freePort(), entry = freePort();
    const user = `${method}:${encodeURIComponent(secret)}`;
    const server = await startGost(["-L", `ss://${user}@127.0.0.1:${ssPort}`]);
    const client = await startGost([
      ...["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`],
      ...["-F", `ss://${user}@127.0.0.1:${ssPort}`],
    ]);
    try {
      const data = randomBytes(4 << 20, 11);
      const back = await tcpRoundTrip(entry, data);
      assert.equal(back.length, data.length);
      assert.equal(await sha256(back), await sha256(data));
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  });
}

Deno.test("e2e ssu: UDP port forwarding through a gost-deno ssu node (SIP002 userinfo)", async () => {
  const echo = udpEchoServer("echo:");
  const ssPort = freeUdpPort(), entry = freeUdpPort();
  const sip002 = btoa("chacha20-ietf-poly1305:pass");
  const server = await startGost(["-L", `ssu://${sip002}@127.0.0.1:${ssPort}`]);
  const client = await startGost([
    ...["-L", `udp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`],
    ...["-F", `ssu://chacha20-ietf-poly1305:pass@127.0.0.1:${ssPort}`],
  ]);
  try {
    for (const msg of ["a", "bb", "z".repeat(1200)]) {
      const got = await udpRoundTrip(entry, msg);
      assert.ok(got, "no answer");
      assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
    }
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
});

/** Sends `count` datagrams of varied sizes from one socket, at most `window` unanswered, and returns how many echoes came back intact. */
async function udpExchange(port: number, count: number, window: number, ms = 10_000): Promise<number> {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
  const pending = new Set<string>();
  let sent = 0, got = 0;
  const send = async () => {
    const msg = `${sent}:` + "x".repeat((sent * 37) % 1400);
    sent++;
    pending.add(msg);
    await sock.send(new TextEncoder().encode(msg), to);
  };
  const timer = setTimeout(() => sock.close(), ms);
  try {
    while (sent < Math.min(window, count)) await send();
    while (got < count) {
      const [data] = await sock.receive();
      const text = new TextDecoder().decode(data);
      if (!text.startsWith("echo:") || !pending.delete(text.slice(5))) continue;
      got++;
      if (sent < count) await send();
    }
  } catch {
    // timed out: report what arrived
  } finally {
    clearTimeout(timer);
    try {
      sock.close();
    } catch {
      // closed by the timer
    }
  }
  return got;
}

for (
  const [method, key, wrongKey] of [
    ["2022-blake3-aes-128-gcm", KEY16, btoa(String.fromCharCode(...randomBytes(16, 5)))],
    ["2022-blake3-aes-256-gcm", KEY32, btoa(String.fromCharCode(...randomBytes(32, 6)))],
  ]
) {
  Deno.test(`e2e ssu ${method}: UDP forwarding through gost-deno ssu nodes both ways; a wrong key gets nothing`, async () => {
    const echo = udpEchoServer("echo:");
    const ssPort = freeUdpPort(), ssKept = freeUdpPort();
    const entry = freeUdpPort(), kept = freeUdpPort(), wrong = freeUdpPort();
    const user = `${method}:${encodeURIComponent(key)}`;
    const node = (k: string, port: number) => `ssu://${method}:${encodeURIComponent(k)}@127.0.0.1:${port}`;
    // The udp listeners close a client's channel after its first answer unless keepAlive is
    // set (as gost's do): the second service and client keep theirs for a stream of answers.
    const server = await startGost([
      ...["-L", `ssu://${user}@:${ssPort}`],
      ...["-L", `ssu://${user}@127.0.0.1:${ssKept}?keepAlive=true&ttl=10s`],
    ]);
    const client = await startGost(["-L", `udp://:${entry}/127.0.0.1:${echo.port}`, "-F", node(key, ssPort)]);
    const keptClient = await startGost([
      ...["-L", `udp://127.0.0.1:${kept}/127.0.0.1:${echo.port}?keepAlive=true&ttl=10s`],
      ...["-F", node(key, ssKept)],
    ]);
    const bad = await startGost([
      "-L",
      `udp://127.0.0.1:${wrong}/127.0.0.1:${echo.port}`,
      "-F",
      node(wrongKey, ssPort),
    ]);
    try {
      // As the seed writes it: one exchange per association, many in turn from one socket.
      assert.equal(await udpExchange(entry, 60, 1), 60);
      for (const msg of ["a", "z".repeat(1400)]) {
        const got = await udpRoundTrip(entry, msg);
        assert.ok(got, `no answer to ${msg.length} bytes`);
        assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
      }
      // One long-lived session: many datagrams in flight both ways.
      assert.equal(await udpExchange(kept, 400, 16), 400);
      const before = echo.received();
      assert.equal(await udpRoundTrip(wrong, "probe", 1500), null);
      assert.equal(echo.received(), before, "the wrong key's datagram must not reach the target");
      assert.match(server.stderr(), /dropped a \d+-byte packet that does not authenticate/);
    } finally {
      await bad.stop();
      await keptClient.stop();
      await client.stop();
      await server.stop();
      echo.close();
    }
  });
}

Deno.test("e2e ssu 2022: a session follows its client to a new address; replays get nothing", async () => {
  const echo = udpEchoServer("echo:");
  const ssPort = freeUdpPort();
  const method = lookupMethod("2022-blake3-aes-128-gcm")!;
  const server = await startGost([
    "-L",
    `ssu://${method.name}:${encodeURIComponent(KEY16)}@127.0.0.1:${ssPort}`,
  ]);
  const session = new ClientSession(method, methodKey(method, KEY16));
  const target = encodeSocksAddr(`127.0.0.1:${echo.port}`);
  const a = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const b = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: ssPort };
  const answer = async (sock: Deno.DatagramConn, packet: Uint8Array) => {
    const got = await udpRoundTrip(ssPort, packet, 2000, sock);
    if (!got) return null;
    const body = session.open(got);
    return typeof body === "string" ? body : new TextDecoder().decode(body.payload);
  };
  try {
    const first = session.seal(target, new TextEncoder().encode("one"));
    assert.equal(await answer(a, first), "echo:one");
    // The client's address changes (NAT rebinding): same session, answers follow it.
    assert.equal(await answer(b, session.seal(target, new TextEncoder().encode("two"))), "echo:two");
    const before = echo.received();
    await b.send(first, to);
    await a.send(first, to);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(echo.received(), before, "a replayed packet must not be relayed");
    assert.match(server.stderr(), /replays a packet id/);
  } finally {
    a.close();
    b.close();
    await server.stop();
    echo.close();
  }
});

Deno.test("e2e ss: a server-first protocol is not left waiting for the header", async () => {
  // The target speaks first (like SSH or SMTP); the client only reads.
  const banner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bannerPort = (banner.addr as Deno.NetAddr).port;
  (async () => {
    for await (const c of banner) {
      await c.write(new TextEncoder().encode("220 hello\r\n")).catch(() => {});
      setTimeout(() => c.close(), 500);
    }
  })();
  const ssPort = freePort(), entry = freePort();
  const server = await startGost(["-L", `ss://aes-128-gcm:pass@127.0.0.1:${ssPort}`]);
  const client = await startGost([
    ...["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${bannerPort}`],
    ...["-F", `ss://aes-128-gcm:pass@127.0.0.1:${ssPort}`],
  ]);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: entry });
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    conn.close();
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "220 hello\r\n");
  } finally {
    await client.stop();
    await server.stop();
    banner.close();
  }
});

/** Connects, sends `bytes`, and reports what came back and when the server closed. */
async function probe(port: number, bytes: Uint8Array, waitMs: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const t0 = performance.now();
  await conn.write(bytes);
  const buf = new Uint8Array(1024);
  let got = 0;
  let closedAfter: number | null = null;
  const timer = setTimeout(() => conn.close(), waitMs);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
    closedAfter = performance.now() - t0;
  } catch {
    // closed by our own timer
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return { got, closedAfter };
}

Deno.test("e2e ss: garbage, a wrong password and a replay get silence until the deadline", async () => {
  const vectors = JSON.parse(
    await Deno.readTextFile(new URL("../../src/protocol/ss/testdata/ss.json", import.meta.url)),
  );
  const v = vectors.vectors.find((x: { id: string }) => x.id === "ss-server-aes-256-gcm");
  const [good, bad] = v.events.filter((e: { dir?: string }) => e.dir === "client->gost").map((
    e: { hex: string },
  ) => Uint8Array.from(e.hex.match(/../g)!, (b: string) => parseInt(b, 16)));
  const ssPort = freePort();
  const server = await startGost(["-L", `ss://aes-256-gcm:testpass@127.0.0.1:${ssPort}?readTimeout=1s`]);
  try {
    const garbage = randomBytes(200, 5);
    const results = await Promise.all([
      probe(ssPort, garbage, 3000),
      probe(ssPort, bad, 3000),
      probe(ssPort, garbage.subarray(0, 20), 3000), // truncated salt
    ]);
    for (const r of results) {
      assert.equal(r.got, 0, "a probe must not get any byte back");
      assert.ok(r.closedAfter !== null && r.closedAfter >= 900, `closed too early: ${r.closedAfter} ms`);
    }
    // The first use of the captured salt authenticates (whatever its target 127.0.0.1:17602
    // does); the same request again is a replay and gets the silent treatment.
    await probe(ssPort, good, 1500);
    const replay = await probe(ssPort, good, 3000);
    assert.equal(replay.got, 0);
    assert.ok(
      replay.closedAfter !== null && replay.closedAfter >= 900,
      `replay closed at ${replay.closedAfter} ms`,
    );
    assert.match(server.stderr(), /salt replayed/);
    assert.match(server.stderr(), /does not authenticate/);
  } finally {
    await server.stop();
  }
});

Deno.test("e2e ss: a missing or unknown method is a start-up error listing the methods", async () => {
  for (const url of ["ss://:8388", "ss://rc4-md5:pass@:8388", "ssu://nope:pass@:8388"]) {
    const r = await runGost(["-L", url]);
    assert.notEqual(r.code, 0, `${url} should not start`);
    assert.match(r.stderr, /aes-128-gcm, aes-256-gcm, chacha20-ietf-poly1305, 2022-blake3-aes-128-gcm/, url);
  }
  const bad2022 = await runGost(["-L", "ss://2022-blake3-aes-256-gcm:notbase64@:8388"]);
  assert.notEqual(bad2022.code, 0);
  assert.match(bad2022.stderr, /base64 key of 32 bytes/);
});
