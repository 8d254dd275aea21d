/**
 * SSH on OpenSSL's libcrypto under the shipped permissions (scoped `--allow-ffi`), and the
 * fallback to Deno's crypto with one log line when FFI is denied: both carry the same bytes.
 */
import { equal, match, ok } from "node:assert/strict";
import { NO_FFI_FLAGS } from "../../scripts/permissions.ts";
import {
  freePort,
  haveLibcrypto,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
} from "../_helpers.ts";

const FALLBACK = /ssh: OpenSSL's libcrypto is not at any of its usual paths/;

/** 1 MiB through gost's sshd listener and sshd dialer (two processes); their stderr. */
async function roundTripThroughSshd(denoFlags: string[]): Promise<string> {
  const echo = tcpEchoServer();
  const [sshPort, fwdPort] = [freePort(), freePort()];
  const server = await startGost(["-L", `sshd://u:p@127.0.0.1:${sshPort}`], 1, { denoFlags });
  const client = await startGost(
    ["-L", `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`, "-F", `sshd://u:p@127.0.0.1:${sshPort}`],
    1,
    { denoFlags },
  );
  try {
    const data = randomBytes(1 << 20, 5);
    const back = await tcpRoundTrip(fwdPort, data);
    equal(back.length, data.length);
    equal(await sha256(back), await sha256(data));
    return server.stderr() + client.stderr();
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
}

Deno.test({
  name:
    "sshd: the shipped permissions put ssh's ciphers on libcrypto; FFI denied falls back with one log line",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    if (!haveLibcrypto()) return;
    const native = await roundTripThroughSshd([]);
    ok(!FALLBACK.test(native), native);
    const fallback = await roundTripThroughSshd(NO_FFI_FLAGS);
    match(fallback, FALLBACK);
    equal(fallback.match(new RegExp(FALLBACK, "g"))?.length, 2, "one line per process");
  },
});
