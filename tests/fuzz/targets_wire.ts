/**
 * Fuzz targets: the plain wire parsers (SOCKS4/5, HTTP heads and bodies, relay, WebSocket,
 * smux, snappy), each fed the way its handler or connector feeds it.
 * @module
 */
import { BufferedReader } from "../../src/core/buffered_reader.ts";
import { ChunkReader } from "../../src/core/chunk_reader.ts";
import { SocksAddrError } from "../../src/core/socks_addr.ts";
import * as socks4 from "../../src/protocol/socks4/socks4.ts";
import * as socks5 from "../../src/protocol/socks5/socks5.ts";
import * as socks5udp from "../../src/protocol/socks5/udp.ts";
import * as http from "../../src/protocol/http/http.ts";
import * as relay from "../../src/protocol/relay/relay.ts";
import { encodeFrame, Opcode, WebSocketProtocolError } from "../../src/protocol/websocket/frame.ts";
import { WebSocketIO } from "../../src/protocol/websocket/conn.ts";
import {
  checkRequest,
  checkResponse,
  parseHead,
  UpgradeError,
} from "../../src/protocol/websocket/handshake.ts";
import {
  Cmd,
  encodeFrame as smuxFrame,
  encodeUpd,
  SmuxProtocolError,
} from "../../src/protocol/smux/frame.ts";
import { SmuxSession } from "../../src/protocol/smux/session.ts";
import { compress, decompress, SnappyCorruptError } from "../../src/protocol/snappy/block.ts";
import { encodeChunks, MAX_BLOCK, readChunk, SnappyFrameError } from "../../src/protocol/snappy/framed.ts";
import { loadSeeds, loadStreams } from "./mutate.ts";
import { drain, memoryDuplex, memoryIO, never, readerErrors, type Target, typed, utf8 } from "./_target.ts";

const reader = (b: Uint8Array) => new BufferedReader(memoryDuplex(b));
const discard = () => Promise.resolve();

const socks4Target: Target = {
  name: "socks4.request",
  seeds: () => [
    socks4.encodeRequest(socks4.CMD_CONNECT, "127.0.0.1:80", "user"),
    socks4.encodeRequest(socks4.CMD_BIND, "10.1.2.3:8080"),
    socks4.encodeRequest(socks4.CMD_CONNECT, "example.com:443", "id"),
    socks4.encodeReply(socks4.Reply.Granted, "1.2.3.4:5"),
  ],
  run: async (b) => void await socks4.readRequest(reader(b)),
  rejects: typed(socks4.Socks4Error, SocksAddrError, ...readerErrors),
};

/** The server's sequence: methods, user/pass when the next byte says so, request, then UDP frames. */
const socks5Server: Target = {
  name: "socks5.server",
  seeds: () => loadStreams("socks5"),
  async run(b) {
    const r = reader(b);
    await socks5.readMethods(r);
    if ((await r.peek(1))[0] === socks5.USERPASS_VERSION) await socks5.readUserPass(r);
    await socks5.readRequest(r);
    while (await socks5udp.readStreamFrame(r)) { /* next */ }
  },
  rejects: typed(socks5.Socks5Error, socks5udp.UdpHeaderError, SocksAddrError, ...readerErrors),
};

/** The connector's side: method selection, user/pass status, then one or two replies (same framing as requests). */
const socks5Client: Target = {
  name: "socks5.reply",
  seeds: () => loadStreams("socks5"),
  async run(b) {
    const r = reader(b);
    const [, method] = await r.readExact(2, "method selection");
    if (method === socks5.Method.UserPass) await r.readExact(2, "user/pass status");
    await socks5.readRequest(r, "socks5 reply");
    if (await r.want(1)) await socks5.readRequest(r, "socks5 second reply"); // BIND: the peer's address
  },
  rejects: typed(socks5.Socks5Error, SocksAddrError, ...readerErrors),
};

const socks5Datagram: Target = {
  name: "socks5.udp-datagram",
  seeds: () => [
    socks5udp.encodeDatagram(Uint8Array.of(1, 127, 0, 0, 1, 0, 53), utf8("query")),
    socks5udp.encodeDatagram(Uint8Array.of(3, 3, 0x61, 0x62, 0x63, 0, 80), utf8("x")),
  ],
  run: (b) => void socks5udp.decodeDatagram(b),
  rejects: typed(socks5udp.UdpHeaderError),
};

/** A proxy's request head, then its body as the head frames it. */
const httpRequest: Target = {
  name: "http.request",
  seeds: () => [
    ...loadStreams("http"),
    utf8(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
    ),
    utf8("PUT http://a/ HTTP/1.0\r\nContent-Length: 3\r\nProxy-Authorization: Basic dTpw\r\n\r\nabc"),
  ],
  async run(b) {
    const r = reader(b);
    for (;;) {
      const head = await http.readHead(r);
      if (!head) return;
      const req = http.parseRequestHead(head);
      const body = http.requestBody(req.headers);
      if (body.kind === "length") await http.copyBytes(r, body.length, discard);
      else if (body.kind === "chunked") await http.copyChunked(r, discard);
    }
  },
  rejects: typed(http.HttpError, ...readerErrors),
};

const httpResponse: Target = {
  name: "http.response",
  seeds: () => [
    ...loadSeeds("http"),
    utf8("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    utf8("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"),
  ],
  async run(b) {
    const r = reader(b);
    const head = await http.readHead(r);
    if (!head) return;
    const res = http.parseResponseHead(head);
    const body = http.responseBody("GET", res.status, res.headers);
    if (body.kind === "length") await http.copyBytes(r, body.length, discard);
    else if (body.kind === "chunked") await http.copyChunked(r, discard);
    else if (body.kind !== "none") await http.copyToEnd(r, discard);
  },
  rejects: typed(http.HttpError, ...readerErrors),
};

const relayRequest: Target = {
  name: "relay.request",
  seeds: () => loadSeeds("relay"),
  async run(b) {
    const r = reader(b);
    relay.decodeRequest(await relay.readMessage(r));
  },
  rejects: typed(relay.RelayError, ...readerErrors),
};

const relayResponse: Target = {
  name: "relay.response",
  seeds: () => loadSeeds("relay"),
  async run(b) {
    const r = reader(b);
    relay.decodeResponse(await relay.readMessage(r, "relay response"));
  },
  rejects: typed(relay.RelayError, ...readerErrors),
};

const CRLF2 = utf8("\r\n\r\n");
function splitHead(b: Uint8Array): [Uint8Array, Uint8Array] {
  for (let i = 0; i + 4 <= b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
      return [b.subarray(0, i + 4), b.subarray(i + 4)];
    }
  }
  return [b.subarray(0, 0), b]; // no head: frames only
}

const wsHandshake: Target = {
  name: "websocket.handshake",
  seeds: () => [
    ...loadSeeds("websocket").map((b) => splitHead(b)[0]).filter((h) => h.length >= CRLF2.length),
    utf8(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x\r\n\r\n",
    ),
    utf8(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    ),
  ],
  async run(b) {
    const head = parseHead(b);
    if (head.line[0].startsWith("HTTP/")) await checkResponse(head, "dGhlIHNhbXBsZSBub25jZQ==");
    else checkRequest(head, { path: "/ws" });
  },
  rejects: typed(UpgradeError),
};

/** Frames as the server reads them (masked: the captures are a client's), one input in four as a client reads them. */
let wsInputs = 0;
const wsFrames: Target = {
  name: "websocket.frames",
  seeds: () => [
    ...loadStreams("websocket").map((b) => splitHead(b)[1]).filter((f) => f.length > 0),
    encodeFrame(Opcode.BINARY, utf8("hello")),
    encodeFrame(Opcode.PING, utf8("p"), Uint8Array.of(1, 2, 3, 4)),
    encodeFrame(Opcode.CLOSE, Uint8Array.of(3, 0xe8), Uint8Array.of(9, 8, 7, 6)),
  ],
  run: (b) => drain(new WebSocketIO(memoryIO(b), { client: wsInputs++ % 4 === 3 })),
  rejects: typed(WebSocketProtocolError),
};

/** A server session: accepts every stream and reads each to its end. */
const smuxSession: Target = {
  name: "smux.session",
  seeds: () => [
    ...loadStreams("smux"),
    new Uint8Array([
      ...smuxFrame(2, Cmd.SYN, 3),
      ...encodeUpd(2, 3, 10, 1 << 20),
      ...smuxFrame(2, Cmd.PSH, 3, utf8("hi")),
      ...smuxFrame(2, Cmd.FIN, 3),
    ]),
  ],
  async run(b) {
    const s = new SmuxSession(memoryDuplex(b), {
      client: false,
      keepAliveDisabled: true,
      version: b[0] === 2 ? 2 : 1,
    });
    const reads: Promise<void>[] = [];
    for (let st; (st = await s.accept());) {
      reads.push(
        (async () => {
          for await (const _ of st.readable) { /* discard */ }
        })().catch(() => {}),
      );
    }
    await s.done;
    await Promise.all(reads);
    const err = s.error;
    if (err && err.message !== "connection closed by peer") throw err;
  },
  rejects: typed(SmuxProtocolError),
};

const snappyBlock: Target = {
  name: "snappy.block",
  seeds: () => [compress(utf8("hello hello hello hello world")), compress(new Uint8Array(300).fill(7))],
  run: (b) => void decompress(b, MAX_BLOCK),
  rejects: typed(SnappyCorruptError),
};

const snappyFramed: Target = {
  name: "snappy.framed",
  seeds: () => [
    encodeChunks(utf8("hello hello hello hello, snappy framed"), true),
    encodeChunks(new Uint8Array(70_000).fill(1), true),
  ],
  async run(b) {
    const r = new ChunkReader(memoryDuplex(b));
    const state = { seenIdentifier: false };
    while (await readChunk(r, state)) { /* next */ }
  },
  rejects: typed(SnappyFrameError, ...readerErrors),
};

/** Round trip: whatever compress makes, decompress gives back (random input). */
const snappyRoundTrip: Target = {
  name: "snappy.roundtrip",
  seeds: () => [utf8("abcabcabcabc"), new Uint8Array(100)],
  run(b) {
    const back = decompress(compress(b), MAX_BLOCK);
    if (back.length !== b.length || back.some((x, i) => x !== b[i])) throw new Error("round trip differs");
  },
  rejects: never,
};

/** The wire parser targets. */
export const WIRE_TARGETS: Target[] = [
  socks4Target,
  socks5Server,
  socks5Client,
  socks5Datagram,
  httpRequest,
  httpResponse,
  relayRequest,
  relayResponse,
  wsHandshake,
  wsFrames,
  smuxSession,
  snappyBlock,
  snappyFramed,
  snappyRoundTrip,
];
