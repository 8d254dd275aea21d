/**
 * Interop with Debian's shadowsocks-libev: `ss-tunnel` (libev's client, same crypto as
 * ss-local) against our ss/ssu handlers, and our ss/ssu connectors against `ss-server`,
 * for each AEAD cipher, TCP with 10 MiB checked by SHA-256 and UDP datagrams.
 *
 * Each runs twice: with the project's permissions (OpenSSL's libcrypto where it is installed,
 * src/protocol/ss/openssl.ts) and with FFI denied (Deno's own crypto, the fallback).
 *
 * shadowsocks-libev does not carry half-close, so the TCP checks read back exactly as many
 * bytes as they sent instead of waiting for end of stream.
 */
import assert from "node:assert/strict";
import { NO_FFI_FLAGS } from "../../scripts/permissions.ts";
import {
  freePort,
  freeUdpPort,
  peerTest,
  randomBytes,
  sha256,
  startGost,
  startProcess,
  tcpEchoServer,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";

const CIPHERS = ["aes-128-gcm", "aes-256-gcm", "chacha20-ietf-poly1305"];
const PASSWORD = "interop-pass";
const SIZE = 10 * 1024 * 1024;

/** Starts a shadowsocks-libev program (or the real gost) and waits until its TCP port accepts. */
const startLibev = (cmd: string, args: string[], port: number) => startProcess(cmd, args, [port], 5_000);

/** Sends `data` through `port` and reads back exactly as many bytes; returns them. */
async function echoThrough(port: number, data: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const out = new Uint8Array(data.length);
    const writing = (async () => {
      for (let off = 0; off < data.length; off += 256 * 1024) {
        let chunk = data.subarray(off, Math.min(data.length, off + 256 * 1024));
        while (chunk.length) chunk = chunk.subarray(await conn.write(chunk));
      }
    })();
    let got = 0;
    while (got < out.length) {
      const n = await conn.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
    await writing;
    return out.subarray(0, got);
  } finally {
    conn.close();
  }
}

const payload = randomBytes(SIZE, 7);
const payloadSum = await sha256(payload);

/** gost-deno's crypto in a run: libcrypto (the shipped permissions), or Deno's own without FFI. */
const BACKENDS = [
  { label: "", denoFlags: [] },
  { label: " (no FFI: Deno's crypto)", denoFlags: NO_FFI_FLAGS },
];

for (const { label, denoFlags } of BACKENDS) {
  for (const method of CIPHERS) {
    peerTest(
      `interop ${method}${label}: ss-tunnel → gost-deno ss handler, 10 MiB echo`,
      ["ss-tunnel"],
      async () => {
        const echo = tcpEchoServer();
        const ssPort = freePort(), tunPort = freePort();
        const gost = await startGost(["-L", `ss://${method}:${PASSWORD}@127.0.0.1:${ssPort}`], 1, {
          denoFlags,
        });
        const tun = await startLibev("ss-tunnel", [
          ...["-s", "127.0.0.1", "-p", `${ssPort}`, "-b", "127.0.0.1", "-l", `${tunPort}`],
          ...["-k", PASSWORD, "-m", method, "-L", `127.0.0.1:${echo.port}`],
        ], tunPort);
        try {
          const back = await echoThrough(tunPort, payload);
          assert.equal(back.length, SIZE);
          assert.equal(await sha256(back), payloadSum);
        } finally {
          await tun.stop();
          await gost.stop();
          echo.close();
        }
      },
    );

    peerTest(
      `interop ${method}${label}: gost-deno ss connector → ss-server, 10 MiB echo`,
      ["ss-server"],
      async () => {
        const echo = tcpEchoServer();
        const ssPort = freePort(), entry = freePort();
        const server = await startLibev("ss-server", [
          ...["-s", "127.0.0.1", "-p", `${ssPort}`, "-k", PASSWORD, "-m", method],
        ], ssPort);
        const gost = await startGost(
          [
            ...["-L", `tcp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`],
            ...["-F", `ss://${method}:${PASSWORD}@127.0.0.1:${ssPort}`],
          ],
          1,
          { denoFlags },
        );
        try {
          const back = await echoThrough(entry, payload);
          assert.equal(back.length, SIZE);
          assert.equal(await sha256(back), payloadSum);
        } finally {
          await gost.stop();
          await server.stop();
          echo.close();
        }
      },
    );

    peerTest(
      `interop ${method}${label}: ss-tunnel -u → gost-deno ssu handler, UDP`,
      ["ss-tunnel"],
      async () => {
        const echo = udpEchoServer("echo:");
        const ssPort = freePort(), tunPort = freePort();
        const gost = await startGost(["-L", `ssu://${method}:${PASSWORD}@127.0.0.1:${ssPort}`], 1, {
          denoFlags,
        });
        // ss-tunnel's TCP port doubles as its readiness signal; -u adds the UDP side on the same port.
        const tun = await startLibev("ss-tunnel", [
          ...["-s", "127.0.0.1", "-p", `${ssPort}`, "-b", "127.0.0.1", "-l", `${tunPort}`, "-u"],
          ...["-k", PASSWORD, "-m", method, "-L", `127.0.0.1:${echo.port}`],
        ], tunPort);
        try {
          for (const msg of ["one", "two", "x".repeat(1400)]) {
            // UDP may drop a datagram (once in a full CI-style run, never in 90 runs alone): a client
            // sends again, as a DNS client would; a path that never answers still fails.
            const got = await udpRoundTrip(tunPort, msg) ?? await udpRoundTrip(tunPort, msg);
            assert.ok(got, `no UDP answer for ${msg.length} bytes`);
            assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
          }
        } finally {
          await tun.stop();
          await gost.stop();
          echo.close();
        }
      },
    );

    peerTest(
      `interop ${method}${label}: gost-deno ssu connector → ss-server -u, UDP port forwarding`,
      ["ss-server"],
      async () => {
        const echo = udpEchoServer("echo:");
        const ssPort = freePort(), entry = freeUdpPort();
        const server = await startLibev("ss-server", [
          ...["-s", "127.0.0.1", "-p", `${ssPort}`, "-k", PASSWORD, "-m", method, "-u"],
        ], ssPort);
        const gost = await startGost(
          [
            ...["-L", `udp://127.0.0.1:${entry}/127.0.0.1:${echo.port}`],
            ...["-F", `ssu://${method}:${PASSWORD}@127.0.0.1:${ssPort}`],
          ],
          1,
          { denoFlags },
        );
        try {
          for (const msg of ["one", "two", "y".repeat(1400)]) {
            const got = await udpRoundTrip(entry, msg);
            assert.ok(got, `no UDP answer for ${msg.length} bytes`);
            assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
          }
        } finally {
          await gost.stop();
          await server.stop();
          echo.close();
        }
      },
    );
  }
}

// Real gost 3.x (GOST_BIN) in both directions, an AEAD method and both 2022 methods.
const GOST_BIN = Deno.env.get("GOST_BIN");
const REAL_GOST_METHODS: [string, string][] = [
  ["aes-256-gcm", PASSWORD],
  ["2022-blake3-aes-128-gcm", "AAECAwQFBgcICQoLDA0ODw=="],
  ["2022-blake3-aes-256-gcm", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="],
];
if (!GOST_BIN) console.warn("SKIP shadowsocks interop with real gost: GOST_BIN is not set");
for (const [method, secret] of REAL_GOST_METHODS) {
  Deno.test({
    name:
      `interop ${method}: gost-deno ss client → real gost ss server, and real gost client → gost-deno server`,
    ignore: !GOST_BIN,
    async fn() {
      const echo = tcpEchoServer();
      const data = payload.subarray(0, 2 << 20);
      const sum = await sha256(data);
      const user = `${method}:${encodeURIComponent(secret)}`;
      // ours → theirs
      const p1 = freePort(), e1 = freePort();
      const real = await startLibev(GOST_BIN!, ["-L", `ss://${user}@127.0.0.1:${p1}`], p1);
      const ours = await startGost([
        ...["-L", `tcp://127.0.0.1:${e1}/127.0.0.1:${echo.port}`],
        ...["-F", `ss://${user}@127.0.0.1:${p1}`],
      ]);
      // theirs → ours
      const p2 = freePort(), e2 = freePort();
      const ourServer = await startGost(["-L", `ss://${user}@127.0.0.1:${p2}`]);
      const realClient = await startLibev(GOST_BIN!, [
        ...["-L", `tcp://127.0.0.1:${e2}/127.0.0.1:${echo.port}`],
        ...["-F", `ss://${user}@127.0.0.1:${p2}`],
      ], e2);
      try {
        assert.equal(await sha256(await echoThrough(e1, data)), sum);
        assert.equal(await sha256(await echoThrough(e2, data)), sum);
      } finally {
        await realClient.stop();
        await ourServer.stop();
        await ours.stop();
        await real.stop();
        echo.close();
      }
    },
  });
}

for (const [method, secret] of REAL_GOST_METHODS) {
  Deno.test({
    name:
      `interop ${method}: UDP, gost-deno ssu connector → real gost ssu server, and real gost client → gost-deno ssu`,
    ignore: !GOST_BIN,
    async fn() {
      const echo = udpEchoServer("echo:");
      const tcpEcho = tcpEchoServer();
      const user = `${method}:${encodeURIComponent(secret)}`;
      // The real gost serves UDP only; a TCP forwarder in the same process says when it is up.
      const ready1 = freePort(), ready2 = freePort();
      const readyArgs = (port: number) => ["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${tcpEcho.port}`];
      // ours → theirs
      const p1 = freeUdpPort(), e1 = freeUdpPort();
      const real = await startLibev(
        GOST_BIN!,
        [...readyArgs(ready1), "-L", `ssu://${user}@127.0.0.1:${p1}`],
        ready1,
      );
      const ours = await startGost([
        ...["-L", `udp://127.0.0.1:${e1}/127.0.0.1:${echo.port}`],
        ...["-F", `ssu://${user}@127.0.0.1:${p1}`],
      ]);
      // theirs → ours
      const p2 = freeUdpPort(), e2 = freeUdpPort();
      const ourServer = await startGost(["-L", `ssu://${user}@127.0.0.1:${p2}`]);
      const realClient = await startLibev(GOST_BIN!, [
        ...readyArgs(ready2),
        ...["-L", `udp://127.0.0.1:${e2}/127.0.0.1:${echo.port}`],
        ...["-F", `ssu://${user}@127.0.0.1:${p2}`],
      ], ready2);
      try {
        for (const entry of [e1, e2]) {
          for (const msg of ["one", "x".repeat(1200)]) {
            const got = await udpRoundTrip(entry, msg);
            assert.ok(got, `no answer through port ${entry}`);
            assert.equal(new TextDecoder().decode(got), `echo:${msg}`);
          }
        }
      } finally {
        await realClient.stop();
        await ourServer.stop();
        await ours.stop();
        await real.stop();
        echo.close();
        tcpEcho.close();
      }
    },
  });
}
