import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { type HeaderField, HpackDecoder, hpackEncode, HpackError } from "./hpack.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));

const REQUESTS: HeaderField[][] = [
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], [
    "cache-control",
    "no-cache",
  ]],
  [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], [
    "custom-key",
    "custom-value",
  ]],
];

Deno.test("hpack: RFC 7541 C.3 (raw) and C.4 (Huffman): three requests through one dynamic table", () => {
  for (
    const blocks of [
      [
        "828684410f7777772e6578616d706c652e636f6d",
        "828684be58086e6f2d6361636865",
        "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
      ],
      [
        "828684418cf1e3c2e5f23a6ba0ab90f4ff",
        "828684be5886a8eb10649cbf",
        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
      ],
    ]
  ) {
    const d = new HpackDecoder();
    blocks.forEach((b, i) => deepStrictEqual(d.decode(hex(b)), REQUESTS[i]));
  }
});

Deno.test("hpack: a table size update evicts; our encoder's blocks decode to what was encoded", () => {
  const d = new HpackDecoder();
  d.decode(hex("828684410f7777772e6578616d706c652e636f6d"));
  // Size update to 0 then index 62 (the evicted :authority) is an error.
  throws(() => d.decode(hex("20be")), HpackError);
  const fields: HeaderField[] = [
    [":method", "CONNECT"],
    [":authority", "127.0.0.1:8443"],
    ["content-type", "application/grpc"],
    ["x-custom", "ünïcode-free latin1 \u00ff"],
    ["user-agent", "gost-deno"],
    [":status", "200"],
  ];
  deepStrictEqual(new HpackDecoder().decode(hpackEncode(fields)), fields);
});

Deno.test("hpack: hostile blocks are refused with HpackError, never a huge allocation", () => {
  const d = new HpackDecoder(4096, 1000);
  for (
    const bad of [
      "80", // index 0
      "ff80", // index beyond the tables
      "7f", // truncated integer
      "7fffffffffffff01", // integer over 2^28
      "400a61", // string longer than the block
      "41ff", // truncated string length
      "3fe21f", // size update (4097) over the announced maximum
      "82" + "20", // size update after a field
      "0085ffffffffff", // Huffman EOS in a name
    ]
  ) {
    throws(() => d.decode(hex(bad)), HpackError, bad);
  }
  // A header list over the limit.
  const big = hpackEncode([["x-big", "a".repeat(2000)]]);
  throws(() => d.decode(big), /header list over 1000 bytes/);
  ok(true);
});
