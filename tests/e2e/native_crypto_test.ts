/**
 * Shadowsocks on OpenSSL's libcrypto and the TLS client on libssl under the shipped permissions
 * (scoped `--allow-ffi`), and the fallbacks (Deno's crypto, node:tls) when FFI is denied.
 */
import { equal, match, ok } from "node:assert/strict";
import { NO_FFI_FLAGS } from "../../scripts/permissions.ts";
import { freePort, haveLibcrypto, randomBytes, startGost, tcpEchoServer, tcpRoundTrip } from "../_helpers.ts";

const FALLBACK = /libcrypto is not at any of its usual paths/;

/** What {@link echoThroughPair} starts: a server, then a client forwarding `fwdPort` through it. */
interface Pair {
  server: string[];
  client: string[];
  fwdPort: number;
}

/**
 * Starts the pair `make` builds (given the echo server's port) with `denoFlags`, sends `size`
 * random bytes through the client's forward to the echo server, checks they come back unchanged,
 * and returns both processes' stderr.
 */
async function echoThroughPair(denoFlags: string[], make: (echoPort: number) => Pair, size: number) {
  const echo = tcpEchoServer();
  const pair = make(echo.port);
  const server = await startGost(pair.server, 1, { denoFlags });
  const client = await startGost(pair.client, 1, { denoFlags });
  try {
    const data = randomBytes(size, 3);
    const back = await tcpRoundTrip(pair.fwdPort, data);
    equal(back.length, data.length);
    ok(back.every((b, i) => b === data[i]), `${pair.client.join(" ")}: the bytes came back changed`);
    return server.stderr() + client.stderr();
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
}

/** An ss forward between two gost-deno processes; their stderr. */
function roundTripThroughSs(denoFlags: string[]): Promise<string> {
  const [ssPort, fwdPort] = [freePort(), freePort()];
  return echoThroughPair(denoFlags, (echo) => ({
    server: ["-L", `ss://aes-256-gcm:pass@127.0.0.1:${ssPort}`],
    client: [
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo}`,
      "-F",
      `ss://aes-256-gcm:pass@127.0.0.1:${ssPort}`,
    ],
    fwdPort,
  }), 256 * 1024);
}

/** A KCP forward between two gost-deno processes with `kcp.crypt` set to `crypt`. */
async function roundTripThroughKcp(denoFlags: string[], crypt: string): Promise<void> {
  const [kcpPort, fwdPort] = [freePort(), freePort()];
  await echoThroughPair(denoFlags, (echo) => ({
    server: ["-L", `kcp://127.0.0.1:${kcpPort}/127.0.0.1:${echo}?crypt=${crypt}`],
    client: ["-L", `tcp://127.0.0.1:${fwdPort}`, "-F", `forward+kcp://127.0.0.1:${kcpPort}?crypt=${crypt}`],
    fwdPort,
  }), 128 * 1024);
}

Deno.test({
  name: "ss: the shipped permissions load libcrypto from its path; FFI denied falls back with one log line",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    if (!haveLibcrypto()) return;
    const native = await roundTripThroughSs([]);
    ok(!FALLBACK.test(native), native);
    const fallback = await roundTripThroughSs(NO_FFI_FLAGS);
    match(fallback, FALLBACK);
  },
});

/** A forward+tls channel between two gost-deno processes, logging at debug level; their stderr. */
function roundTripThroughTls(denoFlags: string[]): Promise<string> {
  const [tlsPort, fwdPort] = [freePort(), freePort()];
  return echoThroughPair(denoFlags, (echo) => ({
    server: ["-D", "-L", `tls://127.0.0.1:${tlsPort}/127.0.0.1:${echo}`],
    client: ["-D", "-L", `tcp://127.0.0.1:${fwdPort}`, "-F", `forward+tls://127.0.0.1:${tlsPort}`],
    fwdPort,
  }), 256 * 1024);
}

Deno.test({
  name: "tls: the shipped permissions run the client on libssl from its path; FFI denied runs it on node:tls",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    if (!haveLibcrypto()) return;
    match(await roundTripThroughTls([]), /client handshakes that verify nothing run on libssl \(\//);
    match(await roundTripThroughTls(NO_FFI_FLAGS), /libssl is not at any of its usual paths/);
  },
});

Deno.test({
  name: "kcp: with FFI denied, AES-CFB runs on node:crypto (loaded on demand) and interoperates; aes-192 too",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    for (const crypt of ["aes", "aes-192"]) await roundTripThroughKcp(NO_FFI_FLAGS, crypt);
  },
});
