import assert from "node:assert/strict";
import { HttpError } from "./http.ts";
import { RequestHeadScanner } from "./head_scan.ts";

const enc = new TextEncoder();

/** Feeds `text` to a scanner a byte at a time; returns the offset it threw at, or -1. */
function rejectsAt(bytes: Uint8Array): number {
  const s = new RequestHeadScanner();
  for (let n = 1; n <= bytes.length; n++) {
    try {
      s.scan(bytes.subarray(0, n));
    } catch (err) {
      assert.ok(err instanceof HttpError, String(err));
      return n - 1;
    }
  }
  return -1;
}

Deno.test("head scan: valid request heads pass, byte by byte and whole", () => {
  for (
    const head of [
      "GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
      "POST http://a/ HTTP/1.0\r\nX-Empty:\r\nX-Tab:\ta\tb\r\nX-Latin: \xe9t\xe9\r\n\r\n",
    ]
  ) {
    const bytes = Uint8Array.from(head, (c) => c.charCodeAt(0));
    // The reader stops before the final CRLF pair is scanned; everything before must pass.
    assert.equal(rejectsAt(bytes.subarray(0, bytes.length - 2)), -1, head);
    new RequestHeadScanner().scan(bytes.subarray(0, bytes.length - 2));
  }
});

Deno.test("head scan: the first byte that cannot start a request head is rejected there", () => {
  const cases: [string | Uint8Array, number][] = [
    [new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]), 0], // a TLS ClientHello
    ["SSH-2.0-OpenSSH_9.6\r\n", 20], // the line ends: it is no request line (one space)
    ["hello world\r\n", 12],
    ["GE\x00T / HTTP/1.1", 2],
    ["G(T / HTTP/1.1", 1],
    [" GET / HTTP/1.1", 0],
    ["GET / HTTP/1.1 x", 14],
    ["GET / HTTP/1.1\n", 14], // bare LF
    ["GET / HTTP/1.1\rX", 15], // bare CR
    ["GET / HTTP/1.1\r\nHost example.com\r\n", 20],
    ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n", 25],
    ["GET / HTTP/1.1\r\n: a\r\n", 16],
    ["GET / HTTP/1.1\r\nX-A: b\x01c\r\n", 22],
    ["GET / HTTP/1.1\r\nX-A: b\r\nbad header line\r\n", 27],
    ["GET / HTTP/2.0\r\n", 15], // a complete line of another protocol version (505)
  ];
  for (const [input, at] of cases) {
    const bytes = typeof input === "string" ? enc.encode(input) : input;
    assert.equal(rejectsAt(bytes), at, JSON.stringify(typeof input === "string" ? input : [...input]));
  }
});

Deno.test("head scan: random bytes are rejected within their first few", () => {
  let worst = 0;
  for (let seed = 1; seed <= 500; seed++) {
    const bytes = new Uint8Array(256);
    let x = seed;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const at = rejectsAt(bytes);
    assert.ok(at >= 0, `seed ${seed} not rejected`);
    worst = Math.max(worst, at);
  }
  assert.ok(worst < 64, `worst ${worst}`);
});
