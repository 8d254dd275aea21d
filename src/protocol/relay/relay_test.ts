import assert from "node:assert/strict";
import {
  CMD_BIND,
  CMD_CONNECT,
  decodeFeatures,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  RelayError,
  Status,
} from "./relay.ts";
import { hex, tcpPair, toHex } from "../../../tests/_helpers.ts";
import { socketDuplex, tcpConnOf } from "../../core/socket.ts";
import { headOnFirstWrite } from "./conn.ts";

const hello = new TextEncoder().encode("hello");

// Golden bytes captured from gost 3.2.6 (relay connector and server).
Deno.test("relay request: TCP CONNECT with auth, coalesced with payload (relay-connector-tcp-nodelay-default)", () => {
  const got = encodeRequest({
    cmd: CMD_CONNECT,
    features: [{ type: "userAuth", username: "user", password: "pass" }, {
      type: "addr",
      addr: "127.0.0.1:17102",
    }],
  }, hello);
  assert.equal(toHex(got), "0101001701000a04757365720470617373020007017f00000142ce68656c6c6f");
});

Deno.test("relay request: no auth (relay-connector-tcp-noauth)", () => {
  const got = encodeRequest({ cmd: CMD_CONNECT, features: [{ type: "addr", addr: "127.0.0.1:17142" }] });
  assert.equal(toHex(got), "0101000a020007017f00000142f6");
});

Deno.test("relay request: UDP CONNECT = [Network udp][UserAuth][Addr], CMD 0x81 (relay-connector-udp-keepalive)", () => {
  const got = encodeRequest({
    cmd: CMD_CONNECT,
    udp: true,
    features: [
      { type: "network", network: "udp" },
      { type: "userAuth", username: "user", password: "pass" },
      { type: "addr", addr: "127.0.0.1:17162" },
    ],
  });
  assert.equal(toHex(got), "0181001c040002000101000a04757365720470617373020007017f000001430a");
  const req = decodeRequest(got);
  assert.equal(req.cmd, CMD_CONNECT);
  assert.equal(req.udp, true);
  assert.deepEqual(req.features[0], { type: "network", network: "udp" });
});

Deno.test("relay request: decode server-side vectors", () => {
  const r = decodeRequest(hex("0101001d01000a0475736572047061737302000d03096c6f63616c686f73744332"));
  assert.deepEqual(r.features, [
    { type: "userAuth", username: "user", password: "pass" },
    { type: "addr", addr: "localhost:17202" },
  ]);
  const bind = decodeRequest(hex("0102001c01000a047573657204706173730400020000020007017f0000010000"));
  assert.equal(bind.cmd, CMD_BIND);
  assert.equal(bind.udp, false);
  assert.deepEqual(bind.features.slice(1), [
    { type: "network", network: "tcp" },
    { type: "addr", addr: "127.0.0.1:0" },
  ]);
  assert.equal(decodeRequest(hex("0100000a020007017f0000014332")).cmd, 0);
  assert.equal(decodeRequest(hex("0201000a020007017f0000014332")).version, 2);
});

Deno.test("relay response: status codes and Addr feature", () => {
  assert.equal(toHex(encodeResponse(Status.OK)), "01000000");
  assert.equal(toHex(encodeResponse(Status.Unauthorized)), "01020000");
  assert.equal(toHex(encodeResponse(Status.NetworkUnreachable)), "01070000");
  assert.equal(toHex(encodeResponse(Status.OK, [], hello)), "0100000068656c6c6f");
  const bound = encodeResponse(Status.OK, [{ type: "addr", addr: "127.0.0.1:40000" }]);
  assert.equal(toHex(bound), "0100000a020007017f0000019c40");
  const d = decodeResponse(bound);
  assert.equal(d.status, Status.OK);
  assert.deepEqual(d.features, [{ type: "addr", addr: "127.0.0.1:40000" }]);
  // IPv6 and unknown feature types survive a round trip.
  const v6 = decodeResponse(encodeResponse(Status.OK, [
    { type: "addr", addr: "[::1]:53" },
    { type: "opaque", code: 0x7f, data: hex("6162") },
  ]));
  assert.deepEqual(v6.features, [{ type: "addr", addr: "[::1]:53" }, {
    type: "opaque",
    code: 0x7f,
    data: hex("6162"),
  }]);
});

Deno.test("relay features: malformed input is a RelayError", () => {
  for (
    const bad of [
      "01", // truncated TLV header
      "010005", // length past the end
      "0100020401", // user auth: username longer than data
      "020003017f00", // addr too short
      "020004097f0000", // unknown ATYP
      "0400010a", // network too short
    ]
  ) assert.throws(() => decodeFeatures(hex(bad)), RelayError, bad);
});

Deno.test("relay conn: the socket shows through a held header only once the header is out", async () => {
  const [a, b] = await tcpPair();
  try {
    const held = headOnFirstWrite(socketDuplex(b), new Uint8Array([0x01, 0x00]));
    const io = held.direct!;
    assert.equal(tcpConnOf(io, "read"), b, "reads pass straight through");
    assert.equal(tcpConnOf(io, "write"), undefined, "a splice must not skip the held header");
    await io.write(new Uint8Array([7]));
    assert.equal(tcpConnOf(io, "write"), b);
    const buf = new Uint8Array(8);
    let got = 0;
    while (got < 3) got += (await a.read(buf.subarray(got))) ?? 0;
    assert.deepEqual([...buf.subarray(0, 3)], [0x01, 0x00, 7]);
  } finally {
    a.close();
    b.close();
  }
});
