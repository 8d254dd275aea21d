/**
 * gost-deno ss/ssu 2022 client ↔ gost-deno server through the CLI, with a recording relay
 * between them: the traffic still round-trips, and what crossed the wire is gost 3.2.6's way
 * (padding and no initial payload in the request, a response header of length 0, UDP session
 * subkeys from the session id reversed), decrypted here with the key.
 */
import assert from "node:assert/strict";
import { encodeSocksAddr } from "../../src/core/socks_addr.ts";
import { lookupMethod, methodKey } from "../../src/protocol/ss/cipher.ts";
import {
  type KeyOrder,
  openBody2022,
  openSeparateHeader,
  type SeparateHeader,
  SeparateHeaderCipher,
  sessionKey,
  TYPE_CLIENT,
  TYPE_SERVER,
} from "../../src/protocol/ss/udp2022.ts";
import {
  freePort,
  freeUdpPort,
  randomBytes,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  toHex,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";
import { ChunkReader } from "../_ss2022.ts";

const METHODS: [string, string][] = [
  ["2022-blake3-aes-128-gcm", btoa(String.fromCharCode(...randomBytes(16, 21)))],
  ["2022-blake3-aes-256-gcm", btoa(String.fromCharCode(...randomBytes(32, 22)))],
];

/** Relays one TCP connection to `target`, keeping each direction's bytes. */
function tcpTee(target: number) {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const up: number[] = [], down: number[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, keep: number[]) => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        for (let i = 0; i < n; i++) keep.push(buf[i]);
        for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
      }
      await to.closeWrite();
    } catch {
      // a side went away: the test's assertions say what was missing
    }
  };
  const done = (async () => {
    const a = await l.accept();
    l.close();
    const b = await Deno.connect({ hostname: "127.0.0.1", port: target });
    await Promise.all([pump(a, b, up), pump(b, a, down)]);
    a.close();
    b.close();
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    up: () => Uint8Array.from(up),
    down: () => Uint8Array.from(down),
    done,
  };
}

/** Relays datagrams between one client and `target`, keeping them. */
function udpTee(target: number) {
  const front = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const back = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const up: Uint8Array[] = [], down: Uint8Array[] = [];
  let client: Deno.Addr | undefined;
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: target };
  (async () => {
    for (;;) {
      const [d, from] = await front.receive();
      client = from;
      up.push(d);
      await back.send(d, to);
    }
  })().catch(() => {});
  (async () => {
    for (;;) {
      const [d] = await back.receive();
      down.push(d);
      if (client) await front.send(d, client);
    }
  })().catch(() => {});
  return {
    port: (front.addr as Deno.NetAddr).port,
    up,
    down,
    close() {
      front.close();
      back.close();
    },
  };
}

for (const [name, key] of METHODS) {
  const method = lookupMethod(name)!;
  const psk = methodKey(method, key);
  const user = `${name}:${encodeURIComponent(key)}`;

  Deno.test(`e2e ${name}: ss client → ss server works, and the TCP wire is gost's layout`, async () => {
    const echo = tcpEchoServer();
    const ssPort = freePort(), entry = freePort();
    const server = await startGost(["-L", `ss://${user}@127.0.0.1:${ssPort}`]);
    const tee = tcpTee(ssPort);
    const client = await startGost([
      ...["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`],
      ...["-F", `ss://${user}@127.0.0.1:${tee.port}`],
    ]);
    try {
      const data = randomBytes(200_000, 23);
      const back = await tcpRoundTrip(entry, data);
      assert.equal(toHex(back), toHex(data));
      await tee.done;
      const req = new ChunkReader(tee.up(), method, psk);
      const fixed = req.open(11);
      const variable = req.open((fixed[9] << 8) | fixed[10]);
      const addr = encodeSocksAddr(`127.0.0.1:${echo.port}`);
      assert.equal(toHex(variable.subarray(0, addr.length)), toHex(addr));
      const pad = (variable[addr.length] << 8) | variable[addr.length + 1];
      assert.ok(pad > 0 && pad < 900, `padding ${pad}`);
      assert.equal(variable.length, addr.length + 2 + pad, "no initial payload");
      assert.equal(toHex(req.rest()), toHex(data));
      const res = new ChunkReader(tee.down(), method, psk);
      const head = res.open(1 + 8 + method.saltSize + 2);
      assert.equal(
        toHex(head.subarray(9, 9 + method.saltSize)),
        toHex(tee.up().subarray(0, method.saltSize)),
      );
      assert.equal(toHex(head.subarray(9 + method.saltSize)), "0000", "response header length 0");
      assert.equal(toHex(res.rest()), toHex(data));
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  });

  Deno.test(`e2e ssu ${name}: ssu client → ssu server works, and both sides key sessions gost's way`, async () => {
    const echo = udpEchoServer("echo:");
    const ssPort = freeUdpPort(), entry = freeUdpPort();
    const server = await startGost(["-L", `ssu://${user}@127.0.0.1:${ssPort}?keepAlive=true&ttl=10s`]);
    const tee = udpTee(ssPort);
    const client = await startGost([
      ...["-L", `udp://127.0.0.1:${entry}/127.0.0.1:${echo.port}?keepAlive=true&ttl=10s`],
      ...["-F", `ssu://${user}@127.0.0.1:${tee.port}`],
    ]);
    const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    try {
      for (const msg of ["ping0", "ping1", "z".repeat(1200)]) {
        const got = await udpRoundTrip(entry, msg, 3000, sock);
        assert.ok(got, `no answer to ${msg.length} bytes`);
        assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
      }
      const hc = new SeparateHeaderCipher(psk);
      const opens = (p: Uint8Array, type: 0 | 1, order: KeyOrder) => {
        const h = openSeparateHeader(hc, p) as SeparateHeader;
        return typeof openBody2022(sessionKey(method, psk, h.sessionId.slice(), order).aead, h, p, type) !==
          "string";
      };
      assert.equal(tee.up.length, 3);
      assert.equal(tee.down.length, 3);
      for (const p of tee.up) assert.ok(opens(p, TYPE_CLIENT, "gost") && !opens(p, TYPE_CLIENT, "spec"));
      for (const p of tee.down) assert.ok(opens(p, TYPE_SERVER, "gost") && !opens(p, TYPE_SERVER, "spec"));
    } finally {
      sock.close();
      await client.stop();
      await server.stop();
      tee.close();
      echo.close();
    }
  });
}
