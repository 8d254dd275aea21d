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
