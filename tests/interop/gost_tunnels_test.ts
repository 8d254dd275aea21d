/**
 * Against a real gost 3 binary (GOST_BIN): every channel of docs/tunnels.md both ways — real
 * gost's client through our server and ours through real gost's — carrying relay (TCP, 1 MB
 * checked, and relay UDP where the channel carries it), plus the http2 proxy. Skipped with a
 * message when GOST_BIN is unset.
 *
 * quic towards a real gost server needs its certificate pinned (Deno's QUIC client always
 * verifies, docs/tunnels.md): the test gives both sides the same certificate files.
 */
import assert from "node:assert/strict";
import { selfSignedCert } from "../../src/core/tls/selfsigned.ts";
import {
  freePort,
  randomBytes,
  sha256,
  startGost,
  startProcess,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";

const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";
if (!GOST_BIN) console.warn("SKIP gost_tunnels_test: set GOST_BIN=/path/to/gost (a gost 3 binary) to run it");
const dec = new TextDecoder();

/** Channel, the query both sides need, and whether relay UDP is checked over it. */
const CHANNELS: [string, string, boolean][] = [
  ["mtcp", "", true],
  ["mtls", "", false],
  ["mws", "", true],
  ["mwss", "", true],
  ["h2c", "", false],
  ["h2", "", false],
  ["grpc", "?grpcInsecure=true", true],
  ["grpc", "", false],
  ["pht", "", false],
  ["phts", "", false],
  ["quic", "", true],
];

function gostTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: !GOST_BIN, sanitizeOps: false, sanitizeResources: false, fn });
}

/** Certificate files for quic (both sides load the same pair; our client pins it as its CA). */
async function certFiles(): Promise<{ dir: string; query: string; serverQuery: string }> {
  const dir = await Deno.makeTempDir();
  const pair = await selfSignedCert({ hosts: ["127.0.0.1"] });
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  return {
    dir,
    query: `caFile=${dir}/cert.pem`,
    serverQuery: `certFile=${dir}/cert.pem&keyFile=${dir}/key.pem`,
  };
}

const join = (q: string, extra: string) => !extra ? q : q ? `${q}&${extra}` : `?${extra}`;

for (const [channel, query, udp] of CHANNELS) {
  for (const direction of ["real gost client -> our server", "our client -> real gost server"]) {
    gostTest(`${direction}: relay+${channel}${query} (TCP${udp ? " + UDP" : ""})`, async () => {
      const echo = tcpEchoServer();
      const uecho = udpEchoServer("echo:");
      const [p, lp, up] = [freePort(), freePort(), freePort()];
      const certs = channel === "quic" ? await certFiles() : undefined;
      const serverQ = join(query, certs?.serverQuery ?? "");
      const clientQ = join(query, certs && direction.startsWith("our") ? certs.query : "");
      const serverArgs = ["-L", `relay+${channel}://127.0.0.1:${p}${serverQ}`];
      const clientArgs = [
        "-L",
        `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
        ...(udp ? ["-L", `udp://127.0.0.1:${up}/127.0.0.1:${uecho.port}`] : []),
        "-F",
        `relay+${channel}://127.0.0.1:${p}${clientQ}`,
      ];
      const ourServer = direction.startsWith("real");
      const server = ourServer
        ? await startGost(serverArgs)
        : await startProcess(GOST_BIN, serverArgs, channel === "quic" ? [] : [p]);
      // Nothing to connect to for a UDP (QUIC) port: give real gost a moment to bind it.
      if (!ourServer && channel === "quic") await new Promise((r) => setTimeout(r, 1000));
      const client = ourServer
        ? await startProcess(GOST_BIN, clientArgs, [lp])
        : await startGost(clientArgs, udp ? 2 : 1);
      try {
        const data = randomBytes(1_000_000, 31);
        assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
        if (udp) assert.equal(dec.decode((await udpRoundTrip(up, "hello"))!), "echo:hello");
      } finally {
        await client.stop();
        await server.stop();
        echo.close();
        uecho.close();
        if (certs) await Deno.remove(certs.dir, { recursive: true });
      }
    });
  }
}

for (const direction of ["real gost client -> our server", "our client -> real gost server"]) {
  gostTest(`${direction}: http2 proxy with auth (TCP)`, async () => {
    const echo = tcpEchoServer();
    const [p, lp] = [freePort(), freePort()];
    const serverArgs = ["-L", `http2://u:p@127.0.0.1:${p}`];
    const clientArgs = [
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-F",
      `http2://u:p@127.0.0.1:${p}`,
    ];
    const ourServer = direction.startsWith("real");
    const server = ourServer ? await startGost(serverArgs) : await startProcess(GOST_BIN, serverArgs, [p]);
    const client = ourServer ? await startProcess(GOST_BIN, clientArgs, [lp]) : await startGost(clientArgs);
    try {
      const data = randomBytes(1_000_000, 32);
      assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  });
}
