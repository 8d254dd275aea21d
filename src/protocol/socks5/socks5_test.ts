import assert from "node:assert/strict";
import { BufferedReader } from "../../core/buffered_reader.ts";
import { streamDuplex } from "../../core/duplex.ts";
import {
  Cmd,
  encodeMethods,
  encodeReply,
  encodeRequest,
  encodeUserPass,
  readMethods,
  readRequest,
  readUserPass,
  Reply,
  Socks5Error,
} from "./socks5.ts";
import { decodeDatagram, encodeDatagram, encodeStreamFrame, readStreamFrame, UdpHeaderError } from "./udp.ts";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { hex, toHex } from "../../../tests/_helpers.ts";

const readerOf = (h: string) =>
  new BufferedReader(streamDuplex({
    readable: ReadableStream.from([hex(h)]),
    writable: new WritableStream(),
    close() {},
  }));

// Golden bytes captured from real gost 3.2.6 (socks5 connector).
Deno.test("socks5: greetings and sub-negotiation match gost's bytes", async () => {
  assert.equal(toHex(encodeMethods([0x00, 0x02, 0x80, 0x82])), "050400028082");
  assert.equal(toHex(encodeMethods([0x00])), "050100");
  assert.equal(toHex(encodeUserPass("user", "pass")), "0104757365720470617373");
  assert.deepEqual(await readMethods(readerOf("050400028082")), [0, 2, 0x80, 0x82]);
  assert.deepEqual(await readUserPass(readerOf("0104757365720470617373")), {
    username: "user",
    password: "pass",
  });
});

Deno.test("socks5: requests and replies, every address type", async () => {
  assert.equal(toHex(encodeRequest(Cmd.Connect, "127.0.0.1:17302")), "050100017f0000014396");
  assert.equal(toHex(encodeRequest(Cmd.UdpTun, "0.0.0.0:0")), "05f30001000000000000");
  assert.equal(toHex(encodeReply(Reply.Succeeded, "127.0.0.1:17303")), "050000017f0000014397");
  assert.deepEqual(await readRequest(readerOf("050100017f0000014396")), {
    code: 1,
    addr: "127.0.0.1:17302",
    host: "127.0.0.1",
    port: 17302,
  });
  assert.equal((await readRequest(readerOf("05010003096c6f63616c686f73740050"))).addr, "localhost:80");
  assert.equal((await readRequest(readerOf("05010004" + "00".repeat(15) + "01" + "0035"))).addr, "[::1]:53");
});

Deno.test("socks5: malformed input is refused with the right reply code", async () => {
  await assert.rejects(readMethods(readerOf("0401")), Socks5Error);
  await assert.rejects(readMethods(readerOf("0500")), /no authentication methods/);
  await assert.rejects(readMethods(readerOf("050300")), /closed/); // truncated
  await assert.rejects(readUserPass(readerOf("020475736572")), /user\/pass version/);
  await assert.rejects(
    readRequest(readerOf("05010009000000000000")),
    (e: Socks5Error) => e.reply === Reply.AddrUnsupported,
  );
  await assert.rejects(
    readRequest(readerOf("040100017f0000014396")),
    (e: Socks5Error) => e.reply === Reply.Failure,
  );
  await assert.rejects(readRequest(readerOf("050100017f00")), /closed/);
});

Deno.test("socks5 udp: stream frames (gost UDP-over-TCP) and standard datagrams", async () => {
  const frame = encodeStreamFrame(encodeSocksAddr("127.0.0.1:17432"), new TextEncoder().encode("hello"));
  assert.equal(toHex(frame), "0005ff017f000001441868656c6c6f");
  const r = readerOf("0005ff017f00000143be776f726c64" + "0000ff017f0000010035");
  const f = await readStreamFrame(r);
  assert.equal(f!.addr, "127.0.0.1:17342");
  assert.equal(new TextDecoder().decode(f!.payload), "world");
  assert.equal((await readStreamFrame(r))!.payload.length, 0);
  assert.equal(await readStreamFrame(r), null);
  await assert.rejects(readStreamFrame(readerOf("000500017f00000143be776f726c64")), UdpHeaderError);
  const d = encodeDatagram(encodeSocksAddr("[::1]:53"), hex("abcd"));
  assert.deepEqual(decodeDatagram(d), { addr: "[::1]:53", payload: hex("abcd") });
  assert.throws(() => decodeDatagram(hex("000001017f0000010035")), /fragmented/);
  assert.throws(() => decodeDatagram(hex("0000")), UdpHeaderError);
});
