import assert from "node:assert/strict";
import {
  checkHeader,
  Cmd,
  encodeData,
  encodeFrame,
  encodeUpd,
  parseHeader,
  parseUpd,
  SmuxProtocolError,
} from "./frame.ts";
import { hex, toHex } from "../../../tests/_helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);

// Frames captured from real gost 3.2.6 (reference/vectors/relay.json "relay-server-bind-tcp"
// and kcp.json "kcp-gost-to-gost-mitm").
const GOST_SYN_3 = "0100000003000000";
const GOST_PSH_3_HELLO = "010205000300000068656c6c6f";
const GOST_FIN_3 = "0101000003000000";
const GOST_NOP = "0103000000000000";
const CLIENT_PSH_3_REPLY = "01020500030000007265706c79";

Deno.test("smux frame: encodes gost's SYN, PSH, FIN and NOP byte for byte", () => {
  assert.equal(toHex(encodeFrame(1, Cmd.SYN, 3)), GOST_SYN_3);
  assert.equal(toHex(encodeFrame(1, Cmd.PSH, 3, text("hello"))), GOST_PSH_3_HELLO);
  assert.equal(toHex(encodeFrame(1, Cmd.FIN, 3)), GOST_FIN_3);
  assert.equal(toHex(encodeFrame(1, Cmd.NOP, 0)), GOST_NOP);
  assert.equal(toHex(encodeData(1, 3, text("reply"), 32768)), CLIENT_PSH_3_REPLY);
});

Deno.test("smux frame: parses the relay BIND capture (SYN + PSH in one read)", () => {
  const bytes = hex("010000000300000001020e00030000000100000a020007017f0000018fa2");
  const syn = parseHeader(bytes, 0);
  assert.deepEqual(syn, { version: 1, cmd: Cmd.SYN, length: 0, streamId: 3 });
  const psh = parseHeader(bytes, 8);
  assert.deepEqual(psh, { version: 1, cmd: Cmd.PSH, length: 14, streamId: 3 });
  assert.equal(toHex(bytes.subarray(16, 16 + psh.length)), "0100000a020007017f0000018fa2");
  assert.equal(checkHeader(syn, 1), null);
  assert.equal(checkHeader(psh, 1), null);
});

Deno.test("smux frame: encodeData splits at maxFrameSize into one buffer", () => {
  const data = new Uint8Array(10).map((_, i) => i);
  const out = encodeData(2, 7, data, 4);
  assert.equal(out.length, 10 + 3 * 8);
  assert.deepEqual(parseHeader(out, 0), { version: 2, cmd: Cmd.PSH, length: 4, streamId: 7 });
  assert.deepEqual(parseHeader(out, 12), { version: 2, cmd: Cmd.PSH, length: 4, streamId: 7 });
  assert.deepEqual(parseHeader(out, 24), { version: 2, cmd: Cmd.PSH, length: 2, streamId: 7 });
  assert.deepEqual([...out.subarray(32)], [8, 9]);
});

Deno.test("smux frame: UPD round trip and layout", () => {
  const f = encodeUpd(2, 0x01020304, 0xfffffffe, 65536);
  assert.equal(toHex(f), "0204080004030201" + "feffffff" + "00000100");
  assert.deepEqual(parseUpd(f.subarray(8)), { consumed: 0xfffffffe, window: 65536 });
  assert.equal(parseHeader(f).streamId, 0x01020304);
});

Deno.test("smux frame: stream ids use all 32 bits", () => {
  const f = encodeFrame(1, Cmd.SYN, 0xfffffffd);
  assert.equal(parseHeader(f).streamId, 0xfffffffd);
});

Deno.test("smux frame: checkHeader names bad versions, unknown commands and bad lengths", () => {
  const cases: [string, number, RegExp][] = [
    ["0200000003000000", 1, /frame version 2 on a version 1 session \(SYN, stream 3\)/],
    ["0105000003000000", 1, /unknown command 5/],
    ["0104080003000000", 1, /UPD frame on a version 1 session/],
    ["0204040003000000", 2, /UPD frame with a 4-byte payload/],
    ["0100050003000000", 1, /SYN frame with a 5-byte payload/],
    ["0103010000000000", 1, /NOP frame with a 1-byte payload/],
  ];
  for (const [h, v, re] of cases) {
    const err = checkHeader(parseHeader(hex(h)), v);
    assert.ok(err instanceof SmuxProtocolError, h);
    assert.match(err.message, re);
  }
  assert.equal(checkHeader(parseHeader(hex("0204080003000000")), 2), null);
  assert.equal(checkHeader(parseHeader(hex("0102ffff03000000")), 1), null);
});

Deno.test("smux frame: payload over 65535 bytes is refused by encodeFrame", () => {
  assert.throws(() => encodeFrame(1, Cmd.PSH, 1, new Uint8Array(65536)), RangeError);
});
