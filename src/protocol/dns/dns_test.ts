/**
 * Golden bytes written by hand from RFC 1035 (4.1 header, 4.1.2 question, 4.1.3 records,
 * 4.1.4 compression) and RFC 7871 (client subnet), and hostile answers.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { hex, randomBytes, toHex } from "../../../tests/_helpers.ts";
import {
  addressesOf,
  decodeMessage,
  decodeName,
  DnsFormatError,
  encodeName,
  encodeQuery,
  encodeResponse,
  RCode,
  RRType,
} from "./dns.ts";

/** "\x07example\x04test\x00": 14 bytes. */
const EXAMPLE_TEST = "076578616d706c65047465737400";

Deno.test("dns: a query is header (id, RD, one question), name labels, type, class IN", () => {
  const q = encodeQuery({ id: 0x1234, name: "example.test", type: RRType.A });
  equal(toHex(q), `1234 0100 0001 0000 0000 0000 ${EXAMPLE_TEST} 0001 0001`.replaceAll(" ", ""));
  const aaaa = encodeQuery({ id: 1, name: "Example.Test.", type: RRType.AAAA });
  equal(toHex(aaaa), "000101000001000000000000" + "074578616d706c650454657374" + "00" + "001c0001");
});

Deno.test("dns: a client subnet goes in an OPT record: family, /24, the first three bytes", () => {
  const q = encodeQuery({
    id: 7,
    name: "a.b",
    type: RRType.A,
    clientSubnet: { family: 1, sourcePrefix: 24, address: Uint8Array.of(1, 2, 3, 4) },
  });
  const want = "0007 0100 0001 0000 0000 0001" + "0161 0162 00 0001 0001" +
    // OPT: root, type 41, class = UDP size 1232, ttl 0, rdlen 11
    "00 0029 04d0 00000000 000b" +
    // option 8 (client subnet), len 7, family 1, source 24, scope 0, 01 02 03
    "0008 0007 0001 18 00 010203";
  equal(toHex(q), want.replaceAll(" ", ""));
  const v6 = encodeQuery({
    id: 7,
    name: "a",
    type: RRType.AAAA,
    clientSubnet: { family: 2, sourcePrefix: 60, address: new Uint8Array(16).fill(0xff) },
  });
  // 60 bits: eight bytes, the last with its low four bits cleared
  equal(toHex(v6.subarray(v6.length - 12)), "00023c00fffffffffffffff0");
});

Deno.test("dns: names are checked when encoded", () => {
  throws(() => encodeName("a..b"), DnsFormatError);
  throws(() => encodeName("x".repeat(64) + ".com"), /63 bytes/);
  throws(() => encodeName(Array(128).fill("a").join(".")), /255 bytes/);
  throws(() => encodeName("bücher.de"), /non-ASCII/);
  equal(toHex(encodeName("")), "00");
});

/** A response: CNAME www.example.test -> example.test's answer compressed twice, then an A. */
const RESPONSE = [
  "1234 8180 0001 0002 0000 0000",
  `${EXAMPLE_TEST} 0001 0001`, // question at 12..29
  "c00c 0005 0001 0000012c 0006", // answer 1 at 30: example.test CNAME, ttl 300
  "03777777 c00c", // rdata at 42: www + pointer to example.test
  "c02a 0001 0001 0000003c 0004 7f000001", // answer 2 at 48: www.example.test A 127.0.0.1, ttl 60
].join("").replaceAll(" ", "");

Deno.test("dns: a response with compressed names decodes", () => {
  const m = decodeMessage(hex(RESPONSE));
  equal(m.id, 0x1234);
  equal(m.response, true);
  equal(m.truncated, false);
  equal(m.rcode, RCode.NoError);
  deepStrictEqual(m.questions, [{ name: "example.test", type: 1, class: 1 }]);
  equal(m.answers.length, 2);
  equal(m.answers[0].type, RRType.CNAME);
  equal(m.answers[0].ttl, 300);
  equal(decodeName(hex(RESPONSE), 42)[0], "www.example.test");
  equal(m.answers[1].name, "www.example.test");
  equal(m.answers[1].ttl, 60);
  deepStrictEqual(addressesOf(m.answers), ["127.0.0.1"]);
});

Deno.test("dns: AAAA records, NXDOMAIN and the truncated flag", () => {
  const aaaa = hex(
    ("0001 8180 0001 0001 0000 0000" + "0161 00 001c 0001" +
      "c00c 001c 0001 00000010 0010 20010db8000000000000000000000001").replaceAll(" ", ""),
  );
  deepStrictEqual(addressesOf(decodeMessage(aaaa).answers), ["2001:db8::1"]);
  const nx = decodeMessage(hex("0001818300010000000000000161000001000001"));
  equal(nx.rcode, RCode.NXDomain);
  equal(decodeMessage(hex("000183800000000000000000")).truncated, true);
});

Deno.test("dns: A/AAAA with a wrong data length are skipped, not misread", () => {
  const m = decodeMessage(hex(
    ("0001 8180 0000 0002 0000 0000" + "00 0001 0001 00000001 0003 010203" +
      "00 001c 0001 00000001 0004 01020304")
      .replaceAll(" ", ""),
  ));
  deepStrictEqual(addressesOf(m.answers), []);
});

Deno.test("dns: hostile answers are refused with a DnsFormatError", () => {
  const cases: [string, string, RegExp][] = [
    ["short header", "1234", /shorter than its header/],
    ["a pointer to itself", "1234 8180 0001 0000 0000 0000 c00c 0001 0001", /backwards/],
    ["a forward pointer", "1234 8180 0001 0000 0000 0000 c00e 0001 0001 00", /backwards/],
    ["a loop through two pointers", "1234 8180 0001 0000 0000 0000 0161 c00c 0001 0001", /backwards/],
    ["counts far beyond the message", "1234 8180 ffff ffff ffff ffff 00 0001 0001", /section counts/],
    ["a truncated question", "1234 8180 0001 0000 0000 0000 03616263 00 00", /truncated question/],
    ["a label past the end", "1234 8180 0001 0000 0000 0000 3f61 00000000", /past the end/],
    ["an unterminated name", "1234 8180 0001 0000 0000 0000 0161016101", /past the end/],
    ["a reserved label type", "1234 8180 0001 0000 0000 0000 4061 0001 0001", /label type/],
    [
      "record data past the end",
      "1234 8180 0000 0001 0000 0000 00 0001 0001 00000001 0004 7f00",
      /truncated record data/,
    ],
    [
      "a truncated record header",
      "1234 8180 0000 0001 0000 0000 0361626300 0001 0001 00000001",
      /truncated resource record/,
    ],
  ];
  for (const [what, bytes, err] of cases) {
    throws(() => decodeMessage(hex(bytes.replaceAll(" ", ""))), err, what);
  }
  // 130 one-byte labels: 261 bytes of name.
  const long = "0001 8180 0001 0000 0000 0000" + "0161".repeat(130) + "00 0001 0001";
  throws(() => decodeMessage(hex(long.replaceAll(" ", ""))), /255 bytes/);
});

Deno.test("dns: random bytes never throw anything but a DnsFormatError", () => {
  for (let seed = 1; seed < 3000; seed++) {
    const b = randomBytes(12 + (seed % 200), seed);
    // Small counts so that parsing gets past the header check now and then.
    b[4] = 0, b[5] = seed % 3, b[6] = 0, b[7] = seed % 4, b[8] = 0, b[9] = 0, b[10] = 0, b[11] = seed % 2;
    try {
      decodeMessage(b);
    } catch (err) {
      if (!(err instanceof DnsFormatError)) throw err;
    }
  }
});

Deno.test("dns: a response echoes id, RD and the question, and decodes back", () => {
  const q = decodeMessage(encodeQuery({ id: 0xbeef, name: "example.test", type: RRType.A }));
  const r = encodeResponse(q, [{
    name: "example.test",
    type: RRType.A,
    ttl: 30,
    data: Uint8Array.of(127, 0, 0, 1),
  }]);
  equal(
    toHex(r),
    ("beef 8180 0001 0001 0000 0000" + `${EXAMPLE_TEST} 0001 0001` +
      `${EXAMPLE_TEST} 0001 0001 0000001e 0004 7f000001`)
      .replaceAll(" ", ""),
  );
  const nx = decodeMessage(encodeResponse(q, [], RCode.NXDomain));
  equal(nx.rcode, RCode.NXDomain);
  equal(nx.id, 0xbeef);
});
