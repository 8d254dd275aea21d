import assert from "node:assert/strict";
import { crc32, crc32c, crc32Range } from "./crc32.ts";

/** Bit-at-a-time reference, independent of the table code. */
function reference(poly: number, data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  return ~c >>> 0;
}

Deno.test("crc32: check values of the standard catalogue", () => {
  const check = new TextEncoder().encode("123456789");
  assert.equal(crc32(check), 0xcbf43926);
  assert.equal(crc32c(check), 0xe3069283);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("crc32: every length 0..80 and odd offsets agree with a bitwise reference", () => {
  const buf = new Uint8Array(100);
  crypto.getRandomValues(buf);
  for (let off = 0; off < 9; off++) {
    for (let n = 0; n <= 80; n++) {
      const d = buf.subarray(off, off + n);
      assert.equal(crc32(d), reference(0xedb88320, d), `ieee off ${off} len ${n}`);
      assert.equal(crc32c(d), reference(0x82f63b78, d), `castagnoli off ${off} len ${n}`);
    }
  }
});

Deno.test("crc32: the seed continues a checksum over split data", () => {
  const d = new Uint8Array(1000).map((_, i) => (i * 13) & 0xff);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32(d.subarray(cut), crc32(d.subarray(0, cut))), crc32(d));
    assert.equal(crc32c(d.subarray(cut), crc32c(d.subarray(0, cut))), crc32c(d));
  }
});

Deno.test("crc32: a range gives the checksum of the same bytes as a view, at any alignment", () => {
  const buf = crypto.getRandomValues(new Uint8Array(120));
  for (const off of [0, 1, 3]) {
    const data = buf.subarray(off);
    for (let start = 0; start < 12; start++) {
      for (const end of [start, start + 1, start + 7, start + 8, start + 9, start + 33, data.length]) {
        if (end > data.length) continue;
        assert.equal(
          crc32Range(data, start, end),
          crc32(data.subarray(start, end)),
          `${off}: ${start}..${end}`,
        );
      }
    }
  }
  assert.throws(() => crc32Range(buf, 5, 4), RangeError);
  assert.throws(() => crc32Range(buf, 0, 121), RangeError);
});
