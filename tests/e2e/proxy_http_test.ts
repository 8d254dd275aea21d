import assert from "node:assert/strict";
import {
  freePort,
  freePorts,
  httpServer,
  randomBytes,
  sha256,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";
import { chain, startConfig, svc } from "../_runtime.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A tiny origin server: answers every request with its method and path, keep-alive. */
function originServer() {
  return httpServer(async (req) => {
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array(0);
    const url = new URL(req.url);
    if (url.pathname === "/chunked") {
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc.encode("part1-"));
            c.enqueue(enc.encode("part2"));
            c.close();
          },
        }),
      );
    }
    return new Response(
      `${req.method} ${url.pathname}${url.search} body=${body.length} host=${req.headers.get("host")} pa=${
        req.headers.get("proxy-authorization")
      }`,
    );
  });
}

async function readResponse(c: Deno.Conn, until: (s: string) => boolean): Promise<string> {
  let text = "";
  const buf = new Uint8Array(65536);
  while (!until(text)) {
    const n = await c.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test({
  name:
    "http handler: absolute-URI requests with keep-alive, bodies (length and chunked), 407 without credentials",
  ...opts,
  fn: async () => {
    const origin = originServer();
    const hp = freePort();
    const run = await startConfig({
      services: [svc(`127.0.0.1:${hp}`, "http", { auth: { username: "user", password: "pass" } })],
    });
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: hp });
      const auth = "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n";
      await c.write(
        enc.encode(
          `GET http://127.0.0.1:${origin.port}/a?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${auth}\r\n`,
        ),
      );
      let t = await readResponse(c, (s) => s.includes("pa=null"));
      assert.match(t, /^HTTP\/1\.1 200/);
      assert.match(t, /GET \/a\?x=1 body=0/);
      // second request on the same connection, with a chunked body
      await c.write(enc.encode(
        `POST http://127.0.0.1:${origin.port}/p HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${auth}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
      ));
      t = await readResponse(c, (s) => s.includes("pa=null"));
      assert.match(t, /POST \/p body=5/);
      // chunked response
      await c.write(
        enc.encode(`GET http://127.0.0.1:${origin.port}/chunked HTTP/1.1\r\nHost: x\r\n${auth}\r\n`),
      );
      t = await readResponse(c, (s) => s.endsWith("0\r\n\r\n"));
      assert.match(t, /part1-/);
      assert.match(t, /part2/);
      c.close();

      const n = await Deno.connect({ hostname: "127.0.0.1", port: hp });
      await n.write(enc.encode(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`));
      t = await readResponse(n, () => false);
      assert.match(t, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
      assert.match(t, /Proxy-Authenticate: Basic realm="gost"\r\n/);
      n.close();
    } finally {
      await run.close();
      await origin.close();
    }
  },
});

Deno.test({
  name: "http: CONNECT and UDP-over-HTTP through http nodes (udp=true), plain http node refuses UDP with 403",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [h1, h2, h3, lp, up, up2] = freePorts(6);
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${h1}`, "http"),
        svc(`127.0.0.1:${h2}`, "http", { auth: { username: "u", password: "p" }, metadata: { udp: true } }),
        svc(`127.0.0.1:${h3}`, "http"),
        svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${echo.port}`] }),
        svc(`127.0.0.1:${up}`, "udp", { chain: "c", targets: [`127.0.0.1:${uecho.port}`] }),
        svc(`127.0.0.1:${up2}`, "udp", { chain: "plain", targets: [`127.0.0.1:${uecho.port}`] }),
      ],
      chains: [
        chain("c", [[`http://127.0.0.1:${h1}`], [`http://u:p@127.0.0.1:${h2}`]]),
        chain("plain", [[`http://127.0.0.1:${h3}`]]),
      ],
    });
    try {
      const data = randomBytes(150_000, 9);
      assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
      assert.equal(dec.decode((await udpRoundTrip(up, "hello"))!), "echo:hello");
      assert.equal(await udpRoundTrip(up2, "hello", 500), null);
      await new Promise((r) => setTimeout(r, 100));
      assert.match(run.logs.join("\n"), /403 Forbidden/);
    } finally {
      await run.close();
      echo.close();
      uecho.close();
    }
  },
});
