/**
 * Shadowsocks on OpenSSL's libcrypto under the shipped permissions (scoped `--allow-ffi`), and the
 * fallback to Deno's crypto with one log line when FFI is denied.
 */
import { equal, match, ok } from "node:assert/strict";
import { NO_FFI_FLAGS } from "../../scripts/permissions.ts";
import { freePort, haveLibcrypto, randomBytes, startGost, tcpEchoServer, tcpRoundTrip } from "../_helpers.ts";

const FALLBACK = /libcrypto is not at any of its usual paths/;

async function roundTripThroughSs(denoFlags: string[]): Promise<string> {
  const echo = tcpEchoServer();
  const [ssPort, fwdPort] = [freePort(), freePort()];
  const server = await startGost(["-L", `ss://aes-256-gcm:pass@127.0.0.1:${ssPort}`], 1, { denoFlags });
  const client = await startGost(
    [
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
      "-F",
      `ss://aes-256-gcm:pass@127.0.0.1:${ssPort}`,
    ],
    1,
    { denoFlags },
  );
  try {
    const data = randomBytes(256 * 1024, 3);
    const back = await tcpRoundTrip(fwdPort, data);
    equal(back.length, data.length);
    ok(back.every((b, i) => b === data[i]));
    return server.stderr() + client.stderr();
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
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

/** A KCP forward between two gost-deno processes, each started with `denoFlags`. */
async function roundTripThroughKcp(denoFlags: string[], crypt: string): Promise<void> {
  const echo = tcpEchoServer();
  const [kcpPort, fwdPort] = [freePort(), freePort()];
  const server = await startGost(
    ["-L", `kcp://127.0.0.1:${kcpPort}/127.0.0.1:${echo.port}?crypt=${crypt}`],
    1,
    { denoFlags },
  );
  const client = await startGost(
    ["-L", `tcp://127.0.0.1:${fwdPort}`, "-F", `forward+kcp://127.0.0.1:${kcpPort}?crypt=${crypt}`],
    1,
    { denoFlags },
  );
  try {
    const data = randomBytes(128 * 1024, 5);
    const back = await tcpRoundTrip(fwdPort, data);
    equal(back.length, data.length);
    ok(back.every((b, i) => b === data[i]), `kcp crypt ${crypt}: bytes differ`);
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
}

Deno.test({
  name: "kcp: with FFI denied, AES-CFB runs on node:crypto (loaded on demand) and interoperates; aes-192 too",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    for (const crypt of ["aes", "aes-192"]) await roundTripThroughKcp(NO_FFI_FLAGS, crypt);
  },
});
