import assert from "node:assert/strict";
import { encodeFrame, maskInto, Opcode, parseFrameHeader, WebSocketProtocolError } from "./frame.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const text = new TextEncoder();

// The examples of RFC 6455 section 5.7.
Deno.test("frame: RFC 6455 unmasked text 'Hello'", () => {
  assert.deepEqual(encodeFrame(Opcode.TEXT, text.encode("Hello")), hex("810548656c6c6f"));
  const h = parseFrameHeader(hex("810548656c6c6f"))!;
  assert.deepEqual({ fin: h.fin, opcode: h.opcode, length: h.length, mask: h.mask, hl: h.headerLength }, {
    fin: true,
    opcode: 1,
    length: 5,
    mask: null,
    hl: 2,
  });
});

Deno.test("frame: RFC 6455 masked text 'Hello'", () => {
  const wire = hex("818537fa213d7f9f4d5158");
  assert.deepEqual(encodeFrame(Opcode.TEXT, text.encode("Hello"), hex("37fa213d")), wire);
  const h = parseFrameHeader(wire)!;
  assert.deepEqual(h.mask, hex("37fa213d"));
  const payload = wire.slice(h.headerLength);
  maskInto(payload, payload, h.mask!, 0);
  assert.equal(new TextDecoder().decode(payload), "Hello");
});

Deno.test("frame: RFC 6455 unmasked ping and 16/64-bit lengths", () => {
  assert.deepEqual(encodeFrame(Opcode.PING, text.encode("Hello")), hex("890548656c6c6f"));
  const f256 = encodeFrame(Opcode.BINARY, new Uint8Array(256));
  assert.deepEqual(f256.subarray(0, 4), hex("827e0100"));
  assert.equal(parseFrameHeader(f256)!.length, 256);
  const f64k = encodeFrame(Opcode.BINARY, new Uint8Array(65536));
  assert.deepEqual(f64k.subarray(0, 10), hex("827f0000000000010000"));
  assert.equal(parseFrameHeader(f64k)!.length, 65536);
});

Deno.test("frame: a partial header asks for more bytes", () => {
  const f = encodeFrame(Opcode.BINARY, new Uint8Array(70000), hex("01020304"));
  for (let n = 0; n < 14; n++) assert.equal(parseFrameHeader(f.subarray(0, n)), null, `at ${n}`);
  assert.equal(parseFrameHeader(f.subarray(0, 14))!.length, 70000);
});

Deno.test("frame: violations are refused", () => {
  const bad = [
    hex("c100"), // RSV1 without an extension
    hex("8300"), // reserved data opcode
    hex("8b00"), // reserved control opcode
    hex("097e0100"), // fragmented control frame (and too long)
    hex("897e007e"), // control frame of 126 bytes
    hex("827fff00000000000000"), // length beyond 2^53
  ];
  for (const b of bad) {
    assert.throws(() => parseFrameHeader(b), WebSocketProtocolError, Array.from(b).join(","));
  }
});

Deno.test("frame: word-wise masking equals byte-wise at every alignment and phase", () => {
  const mask = hex("a1b2c3d4");
  const src = crypto.getRandomValues(new Uint8Array(300));
  for (let off = 0; off < 4; off++) {
    for (let phase = 0; phase < 4; phase++) {
      const s = src.subarray(off, off + 257);
      const want = s.map((b, i) => b ^ mask[(phase + i) & 3]);
      const dst = new Uint8Array(s.length + 3).subarray(3 - off);
      maskInto(s, dst, mask, phase);
      assert.deepEqual(dst.subarray(0, s.length), want);
      const inPlace = s.slice();
      maskInto(inPlace, inPlace, mask, phase);
      assert.deepEqual(inPlace, want);
    }
  }
});
