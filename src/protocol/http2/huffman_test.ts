import { deepStrictEqual, throws } from "node:assert/strict";
import { huffmanDecode, huffmanEncode, HuffmanError } from "./huffman.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
const text = (s: string) => new TextEncoder().encode(s);

// RFC 7541 Appendix C.4 and C.6 examples.
const EXAMPLES: [string, string][] = [
  ["www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"],
  ["no-cache", "a8eb10649cbf"],
  ["custom-key", "25a849e95ba97d7f"],
  ["custom-value", "25a849e95bb8e8b4bf"],
  ["302", "6402"],
  ["private", "aec3771a4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"],
  ["https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"],
];

Deno.test("huffman: RFC 7541's examples both ways", () => {
  for (const [plain, coded] of EXAMPLES) {
    deepStrictEqual(huffmanEncode(text(plain)), hex(coded), plain);
    deepStrictEqual(huffmanDecode(hex(coded)), text(plain), plain);
  }
});

Deno.test("huffman: every byte value round-trips", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  deepStrictEqual(huffmanDecode(huffmanEncode(all)), all);
  deepStrictEqual(huffmanDecode(new Uint8Array(0)), new Uint8Array(0));
});

Deno.test("huffman: bad padding and EOS are refused", () => {
  throws(() => huffmanDecode(hex("f1e3c2e5f23a6ba0ab90f4fe")), HuffmanError); // padding with a zero
  throws(() => huffmanDecode(hex("ff")), HuffmanError); // 8 bits of padding
  throws(() => huffmanDecode(hex("fffffffc")), HuffmanError); // EOS (30 ones) in the string
});
