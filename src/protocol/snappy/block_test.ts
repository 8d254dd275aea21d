import assert from "node:assert/strict";
import { compress, decodedLength, decompress, maxCompressedLength, SnappyCorruptError } from "./block.ts";

const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

// Hand-assembled blocks, one per element form of the snappy format description.
Deno.test("snappy block: decodes every element form", () => {
  // 11 bytes: literal "ab" (tag 0x04), copy-1 offset 2 length 9 (tag (9-4)<<2|1 = 0x15).
  assert.equal(str(decompress(unhex("0b" + "046162" + "1502"))), "abababababa");
  // Copy-2: offset 3, length 10 (tag (10-1)<<2|2 = 0x26), after literal "xyz".
  assert.equal(str(decompress(unhex("0d" + "0878797a" + "260300"))), "xyzxyzxyzxyzx");
  // Copy-4: offset 1, length 5 (tag (5-1)<<2|3 = 0x13), after literal "q".
  assert.equal(str(decompress(unhex("06" + "0071" + "1301000000"))), "qqqqqq");
  // Literal with a 1-byte length (tag 60<<2 = 0xf0): 70 bytes.
  const lit70 = "7a".repeat(70);
  assert.equal(str(decompress(unhex("46" + "f045" + lit70))), "z".repeat(70));
  // Literal with a 2-byte length (tag 61<<2 = 0xf4): 300 bytes; varint 300 = ac 02.
  assert.equal(decompress(unhex("ac02" + "f42b01" + "00".repeat(300))).length, 300);
  // Empty input.
  assert.equal(decompress(unhex("00")).length, 0);
});

Deno.test("snappy block: corrupt input is refused with a reason, never over-allocated", () => {
  const cases: [string, RegExp][] = [
    ["", /bad length varint/],
    ["ffffffffff0f", /bad length varint/],
    ["0a" + "0861", /literal runs past the end/],
    ["05" + "0061" + "1502", /copy out of range/], // offset 2 > 1 byte written
    ["04" + "0061" + "0d00", /copy out of range/], // offset 0
    ["03" + "0061", /decoded 1 bytes, block declares 3/],
    ["05" + "0061" + "15", /truncated copy/],
    ["05" + "f0", /truncated literal length/],
  ];
  for (const [h, re] of cases) {
    assert.throws(() => decompress(h ? unhex(h) : new Uint8Array(0)), (e: Error) => {
      assert.ok(e instanceof SnappyCorruptError, h);
      assert.match(e.message, re, h);
      return true;
    });
  }
  // A declared size over the caller's bound is refused before allocating it.
  assert.throws(() => decompress(unhex("ffffffff0f00"), 65536), /declared length 4294967295 exceeds 65536/);
});

Deno.test("snappy block: round trips of many shapes and sizes", () => {
  const rnd = new Uint8Array(300_000);
  for (let i = 0; i < rnd.length; i += 65536) crypto.getRandomValues(rnd.subarray(i, i + 65536));
  const inputs: Uint8Array[] = [
    new Uint8Array(0),
    text("a"),
    text("abcdefghijklmnop"), // 16: below the matchable minimum
    text("abcdefghijklmnopq"),
    new Uint8Array(100_000), // zeros, crosses a 64 KiB pass
    text("The quick brown fox jumps over the lazy dog. ".repeat(3000)),
    rnd.subarray(0, 65536),
    rnd,
  ];
  for (let n = 0; n < 200; n++) {
    // Mixed: random runs and repeats at random distances.
    const len = 1 + Math.floor(Math.random() * 5000);
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      b[i] = i > 8 && Math.random() < 0.7
        ? b[i - 1 - Math.floor(Math.random() * Math.min(i - 1, 3000))]
        : rnd[i];
    }
    inputs.push(b);
  }
  for (const input of inputs) {
    const c = compress(input);
    assert.ok(c.length <= maxCompressedLength(input.length));
    assert.equal(decodedLength(c).length, input.length);
    assert.deepEqual(decompress(c), input);
  }
  assert.ok(compress(new Uint8Array(100_000)).length < 5000);
  assert.ok(compress(rnd).length <= rnd.length + 32);
});

Deno.test("snappy block: long matches use 64-byte copies and a short tail copy", () => {
  const input = text("0123456789".repeat(50));
  const c = compress(input);
  assert.deepEqual(decompress(c), input);
  assert.ok(c.length < 40, `compressed to ${c.length}`);
});
