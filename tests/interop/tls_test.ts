/**
 * TLS and WebSocket channels against real peers: curl through our `https` proxy, openssl
 * s_client against our `tls` listener, and (with GOST_BIN) real gost's relay+tls, relay+wss
 * and https nodes against ours and ours against its, a 10 MiB payload compared by checksum.
 * @module
 */
import assert from "node:assert/strict";
import {
  freePort,
  type GostProcess,
  peerTest,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  waitForPort,
} from "../_helpers.ts";
import { rootLogger } from "../../src/core/log.ts";
import { selfSignedCert } from "../../src/core/tls/selfsigned.ts";
import type { DialerInit } from "../../src/dialer/registry.ts";
import { type TlsDialer, tlsDialer } from "../../src/dialer/tls.ts";

const L = "127.0.0.1";
const dec = new TextDecoder();

function origin() {
  const ac = new AbortController();
  const port = freePort();
  const server = Deno.serve(
    { hostname: L, port, signal: ac.signal, onListen() {} },
    (req) => new Response(`hello from origin ${new URL(req.url).pathname}`),
  );
  return { port, close: async () => (ac.abort(), await server.finished) };
}

async function run(
  cmd: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15_000),
  })
    .spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    // s_client exits at end of input before the answer arrives: keep stdin open a moment.
    setTimeout(() => w.close().catch(() => {}), 1500);
  }
  const o = await child.output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

peerTest("interop: curl --proxy https://… --proxy-insecure through https:// and tls://:A/:P -L http://:P", [
  "curl",
], async () => {
  const web = origin();
  const [h, a, p] = [freePort(), freePort(), freePort()];
  const g = await startGost([
    "-L",
    `https://${L}:${h}`,
    "-L",
    `tls://${L}:${a}/${L}:${p}`,
    "-L",
    `http://${L}:${p}`,
  ], 3);
  try {
    for (const port of [h, a]) {
      for (const url of [`http://${L}:${web.port}/plain`]) {
        const r = await run("curl", [
          "-sS",
          "--max-time",
          "10",
          "--proxy",
          `https://${L}:${port}`,
          "--proxy-insecure",
          url,
        ]);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, "hello from origin /plain");
      }
    }
    // Without --proxy-insecure curl refuses our self-signed certificate: it is really TLS.
    const strict = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      "--proxy",
      `https://${L}:${h}`,
      `http://${L}:${web.port}/`,
    ]);
    assert.notEqual(strict.code, 0);
  } finally {
    await g.stop();
    await web.close();
  }
});

peerTest(
  "interop: openssl s_client against the tls listener (forwarding to an echo server)",
  ["openssl"],
  async () => {
    const echo = tcpEchoServer();
    const t = freePort();
    const g = await startGost(["-L", `tls://${L}:${t}/${L}:${echo.port}`]);
    try {
      const r = await run(
        "openssl",
        ["s_client", "-connect", `${L}:${t}`, "-quiet", "-no_ign_eof"],
        "ping over openssl\n",
      );
      assert.match(r.out, /ping over openssl/);
      const info = await run("openssl", ["s_client", "-connect", `${L}:${t}`, "-brief", "-no_ign_eof"], "");
      assert.match(info.err + info.out, /TLSv1\.[23]/);
    } finally {
      await g.stop();
      echo.close();
    }
  },
);

peerTest("interop: openssl s_client resumes a TLS 1.3 session with the tickets our tls listener issues", [
  "openssl",
], async () => {
  const echo = tcpEchoServer();
  const t = freePort();
  const dir = await Deno.makeTempDir();
  const g = await startGost(["-L", `tls://${L}:${t}/${L}:${echo.port}`]);
  try {
    const first = await run(
      "openssl",
      ["s_client", "-connect", `${L}:${t}`, "-sess_out", `${dir}/s.pem`],
      "x\n",
    );
    assert.match(first.out, /^New, TLSv1\.3/m);
    const again = await run(
      "openssl",
      ["s_client", "-connect", `${L}:${t}`, "-sess_in", `${dir}/s.pem`],
      "x\n",
    );
    assert.match(again.out, /^Reused, TLSv1\.3/m);
  } finally {
    await g.stop();
    echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

peerTest(
  "interop: our tls dialer resumes with the tickets of another implementation's server (openssl s_server)",
  [
    "openssl",
  ],
  async () => {
    const pair = await selfSignedCert();
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
    const port = freePort();
    const addr = `${L}:${port}`;
    const server = new Deno.Command("openssl", {
      args: [
        "s_server",
        "-accept",
        addr,
        "-cert",
        `${dir}/cert.pem`,
        "-key",
        `${dir}/key.pem`,
        "-www",
        "-quiet",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForPort(port);
      const init: DialerInit = { path: "node", nodeAddr: addr, metadata: {}, log: rootLogger };
      const dialer = tlsDialer.create(init, tlsDialer.options.parse({}, "node")) as TlsDialer;
      for (let i = 0; i < 2; i++) {
        const ctx = { log: rootLogger };
        const conn = await dialer.handshake(await dialer.dial(addr, ctx), addr);
        await conn.direct!.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
        let page = "";
        const buf = new Uint8Array(64 * 1024);
        for (let n; (n = await conn.direct!.read(buf)) !== null;) page += dec.decode(buf.subarray(0, n));
        conn.close();
        // s_server's status page says whether it resumed the session.
        assert.match(page, i === 0 ? /^New, TLSv1\.3/m : /^Reused, TLSv1\.3/m);
        await new Promise((r) => setTimeout(r, 50)); // the tickets land after the handshake
      }
      assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 2, resumed: 1 });
    } finally {
      server.kill();
      await server.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// Real gost on both sides of each channel. GOST_BIN names the binary.
const GOST_BIN = Deno.env.get("GOST_BIN");
if (!GOST_BIN) console.warn("SKIP interop: real gost relay+tls/relay+wss/https: set GOST_BIN to run them");

async function startReal(args: string[]): Promise<{ stop(): Promise<void> }> {
  const child = new Deno.Command(GOST_BIN!, { args, stdout: "null", stderr: "piped" }).spawn();
  let err = "";
  const reading = (async () => {
    for await (const c of child.stderr) err += dec.decode(c);
  })();
  const started = Date.now();
  while (!/listening on/.test(err)) {
    if (Date.now() - started > 10_000) throw new Error(`real gost did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reading;
    },
  };
}

for (const scheme of ["relay+tls", "relay+wss", "https"]) {
  for (const ourSide of ["server", "client"] as const) {
    Deno.test({
      name: `interop: real gost ${scheme} ${
        ourSide === "server" ? "client → our server" : "server ← our client"
      }, 10 MiB`,
      ignore: !GOST_BIN,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        const echo = tcpEchoServer();
        const [srv, entry] = [freePort(), freePort()];
        const serverArgs = ["-L", `${scheme}://${L}:${srv}`];
        const clientArgs = ["-L", `tcp://${L}:${entry}/${L}:${echo.port}`, "-F", `${scheme}://${L}:${srv}`];
        const procs: { stop(): Promise<unknown> }[] = [];
        try {
          if (ourSide === "server") {
            procs.push(await startGost(serverArgs));
            procs.push(await startReal(clientArgs));
          } else {
            procs.push(await startReal(serverArgs));
            procs.push(await startGost(clientArgs) as GostProcess);
          }
          const data = randomBytes(10 << 20, 99);
          const got = await tcpRoundTrip(entry, data);
          assert.equal(await sha256(got), await sha256(data));
        } finally {
          for (const p of procs.reverse()) await p.stop();
          echo.close();
        }
      },
    });
  }
}
