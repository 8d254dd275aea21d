/**
 * pht against real gost 3.2.6 (testdata/pht_captures.json, captured from real gost 3.2.6 on
 * 127.0.0.1): our server's answers to the requests gost's client and a hand-made client sent,
 * and our client's requests compared with gost's, byte for byte (the date and the random token
 * aside).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { BufferedReader } from "../../core/buffered_reader.ts";
import type { Duplex } from "../../core/duplex.ts";
import { Logger } from "../../core/log.ts";
import { socketDuplex } from "../../core/socket.ts";
import { TcpListener } from "../../listener/tcp.ts";
import { PhtClient } from "./client.ts";
import { PhtServer } from "./server.ts";
import { parsePushBody, parseTarget, PHT_PATHS, phtPaths } from "./wire.ts";
import { retry } from "../../../tests/_helpers.ts";

interface Event {
  conn: string;
  dir?: string;
  hex?: string;
  event?: string;
}
const capture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/pht_captures.json", import.meta.url)),
) as { vectors: { id: string; events: Event[] }[] };

const text = (e: Event) => new TextDecoder().decode(hexBytes(e.hex!));
function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}
function events(id: string, dir: string): string[] {
  return capture.vectors.find((v) => v.id === id)!.events.filter((e) => e.dir === dir && e.hex).map(text);
}
/** Date and token values vary per run. */
function normal(s: string): string {
  return s.replace(/Date: [^\r]+/g, "Date: D").replace(/token=[0-9a-v]{20}/g, "token=T");
}

const log = new Logger({ level: "error", format: "text", sink: () => {} });

async function server(pullTimeout?: number) {
  const s = new PhtServer(new TcpListener("127.0.0.1:0"), {
    paths: phtPaths("", "", ""),
    backlog: 4,
    log,
    pullTimeout,
  });
  await s.listen();
  return s;
}

async function connect(
  s: PhtServer,
): Promise<{ conn: Duplex; r: BufferedReader; w: WritableStreamDefaultWriter }> {
  const port = Number(s.addr.split(":").pop());
  const conn = socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
  return { conn, r: new BufferedReader(conn), w: conn.writable.getWriter() };
}

/** Reads exactly the bytes `expected` has (our answer must be as long as gost's). */
async function answer(r: BufferedReader, expected: string): Promise<string> {
  const n = normal(expected).length + (expected.length - normal(expected).length);
  return new TextDecoder().decode(await r.readExact(n));
}

Deno.test("pht server: gost's answers to wrong requests (404, 400, 403, 403, 400, then a token)", async () => {
  const s = await server();
  const { conn, r, w } = await connect(s);
  try {
    const sent = events("pht-server-wrong-requests", "client->gost");
    const got = events("pht-server-wrong-requests", "gost->client");
    equal(sent.length, 6);
    for (let i = 0; i < sent.length; i++) {
      await w.write(new TextEncoder().encode(sent[i]));
      equal(normal(await answer(r, got[i])), normal(got[i]), `answer to ${sent[i].split("\r\n")[0]}`);
    }
    equal(s.tunnelCount, 1); // POST /authorize made one
  } finally {
    conn.close();
    s.close();
  }
});

Deno.test("pht server: gost client's authorize, pull and push get gost's answers; lines framed as gost", async () => {
  const s = await server(300);
  const pullConn = await connect(s);
  const pushConn = await connect(s);
  try {
    const req = events("pht-relay-pair", "gost-client->gost-server");
    const res = events("pht-relay-pair", "gost-server->gost-client");
    const enc = new TextEncoder();
    await pullConn.w.write(enc.encode(req[0]));
    const auth = await answer(pullConn.r, res[0]);
    equal(normal(auth), normal(res[0]));
    const token = /token=([0-9a-v]{20})$/.exec(auth)![1];
    match(token, /^[0-9a-v]{20}$/);
    const handler = (await s.accept())!;
    const withOurs = (x: string) => x.replace(/token=[0-9a-v]{20}/, `token=${token}`);
    await pullConn.w.write(enc.encode(withOurs(req[1])));
    equal(normal(await answer(pullConn.r, res[1])), normal(res[1]));
    // The push: the relay request + "hello\n" reaches the handler decoded.
    await pushConn.w.write(enc.encode(withOurs(req[2])));
    equal(normal(await answer(pushConn.r, res[2])), normal(res[2]));
    const hw = handler.writable.getWriter();
    const hr = handler.readable.getReader();
    const first = (await hr.read()).value!;
    deepStrictEqual(first, Uint8Array.fromBase64("AQEACgIABwF/AAABR4poZWxsbwo="));
    // One handler write is one chunk, as gost's.
    await hw.write(Uint8Array.fromBase64("AQAAAHdvcmxkCg=="));
    equal(await answer(pullConn.r, res[3]), res[3]);
    // No data for the pull timeout: an empty line and the end of the response.
    equal(await answer(pullConn.r, res[4]), res[4]);
    equal(res[4], "1\r\n\n\r\n0\r\n\r\n");
    // A lone "\n" push is our half-close: the handler reads the end.
    await pushConn.w.write(
      enc.encode(`POST /push?token=${token} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\n`),
    );
    match(await answer(pushConn.r, res[2]), /^HTTP\/1.1 200 OK/);
    equal((await hr.read()).done, true);
    // An empty push closes the tunnel; the token is gone after it.
    await pushConn.w.write(
      enc.encode(`POST /push?token=${token} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`),
    );
    match(await answer(pushConn.r, res[2]), /^HTTP\/1.1 200 OK/);
    equal(s.tunnelCount, 0);
    await pushConn.w.write(enc.encode(withOurs(req[1])));
    match(
      new TextDecoder().decode(await pushConn.r.readUntil(new Uint8Array([13, 10, 13, 10]), 500)),
      /^HTTP\/1.1 403/,
    );
  } finally {
    pullConn.conn.close();
    pushConn.conn.close();
    s.close();
  }
});

Deno.test("pht server: 429 when the backlog is full", async () => {
  const s = await server();
  const { conn, r, w } = await connect(s);
  try {
    const req = new TextEncoder().encode("GET /authorize HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 4; i++) {
      await w.write(req);
      match(new TextDecoder().decode(await r.readUntil(new TextEncoder().encode("token="), 500)), /200 OK/);
      await r.readExact(20);
    }
    await w.write(req);
    match(
      new TextDecoder().decode(await r.readUntil(new Uint8Array([13, 10, 13, 10]), 500)),
      /^HTTP\/1.1 429 /,
    );
  } finally {
    conn.close();
    s.close();
  }
});

Deno.test("pht client: gost's requests byte for byte (authorize, pull, push of one write); our half-close and close", async () => {
  const res = events("pht-relay-pair", "gost-server->gost-client");
  const want = events("pht-relay-pair", "gost-client->gost-server");
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const served = (async () => {
    // tun0: authorize, then the pull (held open); tun1: the push.
    for (const script of [[res[0], res[1] + res[3]], [res[2], res[2], res[2]]]) {
      const conn = socketDuplex(await l.accept());
      const r = new BufferedReader(conn);
      const w = conn.writable.getWriter();
      (async () => {
        for (const answer of script) {
          const head = new TextDecoder().decode(await r.readUntil(new Uint8Array([13, 10, 13, 10]), 4096));
          const len = Number(/Content-Length: (\d+)/.exec(head)?.[1] ?? 0);
          seen.push(head + (len ? new TextDecoder().decode(await r.readExact(len)) : ""));
          await w.write(
            new TextEncoder().encode(answer.replace(/token=[0-9a-v]{20}/, "token=dc7nsgtqmd2phdrs1dm0")),
          );
        }
      })().catch(() => {});
    }
  })();
  const port = (l.addr as Deno.NetAddr).port;
  const client = new PhtClient({
    host: "127.0.0.1:18312",
    paths: phtPaths("", "", ""),
    header: {},
    open: async () => socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port })),
    log,
  });
  try {
    const tunnel = await client.dial("", "127.0.0.1:18312");
    const rd = tunnel.readable.getReader();
    const wr = tunnel.writable.getWriter();
    const reply = rd.read();
    await wr.write(Uint8Array.fromBase64("AQEACgIABwF/AAABR4poZWxsbwo="));
    deepStrictEqual((await reply).value, Uint8Array.fromBase64("AQAAAHdvcmxkCg=="));
    await served;
    equal(seen[0], want[0]);
    equal(seen[1], want[1]);
    equal(seen[2], want[2]);
    // Our half-close and close: pushes of a lone newline and of nothing (gost's server closes on the latter).
    await wr.close();
    tunnel.close();
    await retry(() => seen.length === 5 ? Promise.resolve() : Promise.reject(new Error("waiting")), 2000, 10);
    const push = (body: string) =>
      "POST /push?token=dc7nsgtqmd2phdrs1dm0 HTTP/1.1\r\nHost: 127.0.0.1:18312\r\nUser-Agent: Go-http-client/1.1\r\n" +
      `Content-Length: ${body.length}\r\nAccept-Encoding: gzip\r\n\r\n${body}`;
    equal(seen[3], push("\n"));
    equal(seen[4], push(""));
  } finally {
    client.close();
    l.close();
  }
});

Deno.test("pht wire: paths, targets, push bodies", () => {
  deepStrictEqual(phtPaths("x", "/p", ""), { authorize: PHT_PATHS.authorize, push: "/p", pull: "/pull" });
  deepStrictEqual(parseTarget("/pull?token=abc&x=1"), { path: "/pull", token: "abc" });
  deepStrictEqual(parseTarget("/foo"), { path: "/foo", token: "" });
  deepStrictEqual(parsePushBody(new Uint8Array()), { kind: "close" });
  deepStrictEqual(parsePushBody(new TextEncoder().encode("aGVsbG8K")), { kind: "close" });
  deepStrictEqual(parsePushBody(new TextEncoder().encode("\n")), { kind: "halfClose" });
  deepStrictEqual(parsePushBody(new TextEncoder().encode("!!\n")), { kind: "bad" });
  const d = parsePushBody(new TextEncoder().encode("aGVsbG8K\nignored"));
  ok(d.kind === "data");
  equal(new TextDecoder().decode(d.data), "hello\n");
});
