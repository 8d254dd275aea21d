import assert from "node:assert/strict";
import { BufferedReader } from "../../core/buffered_reader.ts";
import { streamDuplex } from "../../core/duplex.ts";
import {
  copyChunked,
  encodeConnect,
  HttpError,
  parseRequestHead,
  parseResponseHead,
  requestBody,
  responseBody,
} from "./http.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const readerOf = (s: string) =>
  new BufferedReader(
    streamDuplex({
      readable: ReadableStream.from([enc.encode(s)]),
      writable: new WritableStream(),
      close() {},
    }),
  );

// Exact text captured from gost 3.2.6 (its http connector capture).
Deno.test("http: gost's CONNECT request, with auth and with X-Gost-Protocol udp", () => {
  assert.equal(
    dec.decode(encodeConnect("127.0.0.1:17402", { authorization: "Basic dXNlcjpwYXNz" })),
    "CONNECT 127.0.0.1:17402 HTTP/1.1\r\nHost: 127.0.0.1:17402\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\n\r\n",
  );
  assert.equal(
    dec.decode(encodeConnect("127.0.0.1:17432", { udp: true })),
    "CONNECT 127.0.0.1:17432 HTTP/1.1\r\nHost: 127.0.0.1:17432\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Connection: keep-alive\r\nX-Gost-Protocol: udp\r\n\r\n",
  );
});

Deno.test("http: request and response heads parse, keeping header order", () => {
  const r = parseRequestHead(enc.encode("GET http://a/b?c HTTP/1.1\r\nHost: a\r\nX-A:  1 \r\n\r\n"));
  assert.deepEqual(r, {
    method: "GET",
    target: "http://a/b?c",
    version: "HTTP/1.1",
    headers: [["Host", "a"], ["X-A", "1"]],
  });
  const s = parseResponseHead(
    enc.encode("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
  );
  assert.equal(s.status, 407);
  assert.equal(s.reason, "Proxy Authentication Required");
});

Deno.test("http: malformed heads are HttpErrors with a status", () => {
  for (
    const bad of [
      "GET\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\n folded\r\n\r\n",
    ]
  ) {
    assert.throws(() => parseRequestHead(enc.encode(bad)), HttpError, bad);
  }
  assert.throws(
    () => parseRequestHead(enc.encode("GET / HTTP/3\r\n\r\n")),
    (e: HttpError) => e.status === 505,
  );
  assert.throws(() => requestBody([["Content-Length", "-1"]]), HttpError);
  assert.throws(() => requestBody([["Transfer-Encoding", "gzip"]]), (e: HttpError) => e.status === 501);
  assert.throws(() => parseResponseHead(enc.encode("HTP/1.1 200 OK\r\n\r\n")), HttpError);
});

Deno.test("http: body framing and chunked copying", async () => {
  assert.deepEqual(responseBody("HEAD", 200, [["Content-Length", "10"]]), { kind: "none" });
  assert.deepEqual(responseBody("GET", 204, []), { kind: "none" });
  assert.deepEqual(responseBody("GET", 200, []), { kind: "close" });
  assert.deepEqual(responseBody("GET", 200, [["Transfer-Encoding", "chunked"]]), { kind: "chunked" });
  const body = "3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
  const out: Uint8Array[] = [];
  const n = await copyChunked(readerOf(body + "NEXT"), (b) => (out.push(b), Promise.resolve()));
  assert.equal(n, body.length);
  assert.equal(out.map((b) => dec.decode(b)).join(""), body);
  await assert.rejects(copyChunked(readerOf("zz\r\n"), () => Promise.resolve()), HttpError);
});
