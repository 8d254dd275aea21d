/**
 * The HTTP/2 channels h2c, h2 and grpc through the real CLI: what real gost 3.2.6 answered to
 * wrong requests and what its dialers sent (captures in src/protocol/http2/testdata), many
 * streams on one connection, a cut connection replaced, 10 MiB checked, UDP over a stream.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { socketDuplex } from "../../src/core/socket.ts";
import { type HeaderField } from "../../src/protocol/http2/hpack.ts";
import { Http2Session } from "../../src/protocol/http2/session.ts";
import {
  checkAsSecondHop,
  checkUdpOver,
  countingTee,
  freePort,
  randomBytes,
  retry,
  sha256,
  startGost,
  streamRoundTrip,
  tcpEchoServer,
} from "../_helpers.ts";

const capture = JSON.parse(
  await Deno.readTextFile(new URL("../../src/protocol/http2/testdata/h2_tunnels.json", import.meta.url)),
) as { vectors: { id: string; events: { dir?: string; frames?: { headers?: HeaderField[] }[] }[] }[] };

/** The first header list gost's client sent in vector `id`. */
function gostRequest(id: string): HeaderField[] {
  const v = capture.vectors.find((x) => x.id === id)!;
  for (const e of v.events) {
    if (e.dir !== "gost-client->gost-server") continue;
    const h = e.frames?.find((f) => f.headers)?.headers;
    if (h) return h;
  }
  throw new Error(`no request in ${id}`);
}

/** An HTTP/2 client session (prior knowledge) to 127.0.0.1:`port`. */
async function h2Client(port: number): Promise<Http2Session> {
  return new Http2Session(socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port })), {
    client: true,
  });
}

/** The response header block to one request. */
async function ask(session: Http2Session, fields: HeaderField[]): Promise<Record<string, string>> {
  const s = await session.request(fields);
  const h = await s.waitHeaders();
  s.close();
  return Object.fromEntries(h ?? []);
}

Deno.test("h2c listener: gost's answers to wrong requests (405 without a path, 400 on another path)", async () => {
  const [plain, withPath] = [freePort(), freePort()];
  const a = await startGost(["-L", `relay+h2c://127.0.0.1:${plain}`]);
  const b = await startGost(["-L", `relay+h2c://127.0.0.1:${withPath}?path=/tun`]);
  try {
    const c1 = await h2Client(plain);
    const get = await ask(c1, [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "x"]]);
    deepStrictEqual([get[":status"], get["content-length"]], ["405", "0"]);
    equal((await ask(c1, [[":method", "CONNECT"], [":authority", "x:1"]]))[":status"], "200");
    c1.close();
    const c2 = await h2Client(withPath);
    const other = [[":method", "GET"], [":scheme", "http"], [":path", "/other"], [
      ":authority",
      "x",
    ]] as HeaderField[];
    equal((await ask(c2, other))[":status"], "400");
    equal((await ask(c2, [[":method", "CONNECT"], [":authority", "x:1"]]))[":status"], "400");
    equal(
      (await ask(c2, [[":method", "POST"], [":scheme", "http"], [":path", "/tun"], [":authority", "x"]]))[
        ":status"
      ],
      "200",
    );
    c2.close();
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("grpc listener: gost's refusals of an unknown method, an unknown service and a non-gRPC request", async () => {
  const port = freePort();
  const g = await startGost(["-L", `relay+grpc://127.0.0.1:${port}?grpcInsecure=true`]);
  try {
    const c = await h2Client(port);
    const call = (path: string): HeaderField[] => [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", "127.0.0.1"],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
    const method = await ask(c, call("/GostTunel/Wrong"));
    deepStrictEqual([method[":status"], method["grpc-status"], method["grpc-message"]], [
      "200",
      "12",
      "unknown method Wrong for service GostTunel",
    ]);
    const service = await ask(c, call("/Other/Tunnel"));
    deepStrictEqual([service["grpc-status"], service["grpc-message"]], ["12", "unknown service Other"]);
    const get = await ask(c, [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "x"]]);
    deepStrictEqual([get[":status"], get["grpc-status"], get["grpc-message"]], [
      "415",
      "3",
      'invalid gRPC request content-type ""',
    ]);
    c.close();
  } finally {
    await g.stop();
  }
});

/** Accepts one HTTP/2 connection on `port` and returns its first request's headers. */
async function recordRequest(port: number): Promise<HeaderField[]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  const conn = await l.accept();
  l.close();
  const server = new Http2Session(socketDuplex(conn), { client: false });
  const s = (await server.accept())!;
  const headers = s.headers!;
  server.close();
  return headers;
}

for (
  const [channel, query, vector] of [
    ["h2c", "", "h2c-relay-pair"],
    ["h2c", "?path=/tun", "h2c-relay-pair-path"],
    ["grpc", "?grpcInsecure=true", "grpc-relay-pair"],
    ["grpc", "?grpcInsecure=true&path=/my.Svc/Tun/x&host=example.com:8443", "grpc-relay-pair-path"],
  ]
) {
  Deno.test(`${channel}${query} dialer: the request headers gost's dialer sends`, async () => {
    const [nodePort, fwdPort] = [freePort(), freePort()];
    const recording = recordRequest(nodePort);
    const g = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:1`,
      "-F",
      `relay+${channel}://127.0.0.1:${nodePort}${query}`,
    ]);
    try {
      const app = await Deno.connect({ hostname: "127.0.0.1", port: fwdPort });
      await app.write(new TextEncoder().encode("hello\n"));
      const ours = await recording;
      app.close();
      // The captured node listened on port 18312; ours on nodePort.
      const theirs = gostRequest(vector).map(([n, v]) =>
        [n, n === ":authority" ? v.replace("18312", String(nodePort)) : v] as HeaderField
      );
      deepStrictEqual(ours, theirs);
    } finally {
      await g.stop();
    }
  });
}

for (const [channel, query] of [["h2c", ""], ["h2", ""], ["grpc", "?grpcInsecure=true"], ["grpc", ""]]) {
  Deno.test(`relay+${channel}${query}: 100 streams on one connection; a cut connection is replaced; 10 MiB`, async () => {
    const echo = tcpEchoServer();
    const [nodePort, fwdPort] = [freePort(), freePort()];
    const server = await startGost(["-L", `relay+${channel}://127.0.0.1:${nodePort}${query}`]);
    const tee = countingTee(nodePort);
    const client = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
      "-F",
      `relay+${channel}://127.0.0.1:${tee.port}${query}`,
    ]);
    try {
      const payloads = Array.from({ length: 100 }, (_, i) => randomBytes(1024 + i * 131, i + 1));
      const back = await Promise.all(payloads.map((p) => streamRoundTrip(fwdPort, p)));
      back.forEach((b, i) => deepStrictEqual(b, payloads[i], `stream ${i}`));
      equal(tee.accepted(), 1, "one connection carries every stream");
      tee.cut();
      const again = await retry(
        async () => {
          const b = await streamRoundTrip(fwdPort, payloads[0]);
          if (b.length !== payloads[0].length) throw new Error("short");
          return b;
        },
        5000,
        100,
      );
      deepStrictEqual(again, payloads[0]);
      equal(tee.accepted(), 2, "a new connection after the cut");
      const big = randomBytes(10 << 20, 42);
      equal(await sha256(await streamRoundTrip(fwdPort, big)), await sha256(big));
    } finally {
      await client.stop();
      await server.stop();
      tee.close();
      echo.close();
    }
  });
}

Deno.test("udp over relay+h2c: datagrams ride one stream and keep their boundaries", () =>
  checkUdpOver("relay+h2c", [1, 700, 1400]));

Deno.test("grpc as the second hop: its HTTP/2 connection runs inside the first hop's relay stream", () =>
  checkAsSecondHop("relay+grpc"));
