import assert from "node:assert/strict";
import { duplexPair } from "../../core/pipe.ts";
import { encodeChunks, maskedCrc, snappyFramed, SnappyFrameError } from "./framed.ts";
import { SmuxSession } from "../smux/session.ts";
import { hex, readExactly, toHex } from "../../../tests/_helpers.ts";

// The snappy-framed stream gost 3.2.6's KCP client sent (kcp.json "kcp-gost-to-gost-mitm",
// reassembled in sn order): identifier, then one uncompressed chunk per smux frame.
const GOST_CLIENT_STREAM = "ff060000734e61507059" + "010c00004439ac2f0100000003000000" +
  "0111000028beb005010205000300000068656c6c6f" + "010c000042893c770101000003000000";

Deno.test("snappy framing: encodes gost's chunks byte for byte", () => {
  assert.equal(toHex(encodeChunks(hex("0100000003000000"), true)), GOST_CLIENT_STREAM.slice(0, 52));
  assert.equal(
    toHex(encodeChunks(hex("010205000300000068656c6c6f"), false)),
    GOST_CLIENT_STREAM.slice(52, 94),
  );
  assert.equal(maskedCrc(hex("0101000003000000")), 0x773c8942);
});

Deno.test("snappy framing: decodes the captured gost stream into smux frames", async () => {
  const [a, raw] = duplexPair();
  const framed = snappyFramed(a);
  const bytes = hex(GOST_CLIENT_STREAM);
  // Split the capture at awkward places: every chunk straddles reads.
  for (let i = 0; i < bytes.length; i += 7) await raw.direct!.write(bytes.subarray(i, i + 7));
  await raw.direct!.closeWrite();
  const chunks: string[] = [];
  for await (const c of framed.readable) chunks.push(toHex(c));
  assert.deepEqual(chunks, ["0100000003000000", "010205000300000068656c6c6f", "0101000003000000"]);
  framed.close();
  raw.close();
});

Deno.test("snappy framing: smux over snappy sends exactly what gost's KCP client sent", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(snappyFramed(a), { client: true, keepAliveDisabled: true });
  const st = await s.openStream();
  const w = st.writable.getWriter();
  await w.write(new TextEncoder().encode("hello"));
  await w.close();
  assert.equal(toHex(await readExactly(raw, GOST_CLIENT_STREAM.length / 2)), GOST_CLIENT_STREAM);
  s.close();
  raw.close();
});

Deno.test("snappy framing: compressible writes are compressed, round trip intact", async () => {
  const [a, b] = duplexPair();
  const fa = snappyFramed(a);
  const fb = snappyFramed(b);
  const data = new TextEncoder().encode("abcdefgh".repeat(20000)); // 160000 bytes: 3 chunks
  const framed = encodeChunks(data, true);
  assert.ok(framed.length < data.length / 10, `framed ${framed.length}`);
  const w = fa.writable.getWriter();
  const sending = w.write(data).then(() => w.close());
  const parts: Uint8Array[] = [];
  for await (const c of fb.readable) parts.push(c);
  await sending;
  assert.equal(parts.reduce((n, p) => n + p.length, 0), data.length);
  const joined = new Uint8Array(data.length);
  let o = 0;
  for (const p of parts) (joined.set(p, o), o += p.length);
  assert.deepEqual(joined, data);
  fa.close();
  fb.close();
});

Deno.test("snappy framing: a stream without the identifier is refused with a clear error", async () => {
  const [a, raw] = duplexPair();
  const framed = snappyFramed(a);
  await raw.direct!.write(hex("010c00004439ac2f0100000003000000"));
  await assert.rejects(() => framed.readable.getReader().read(), (e: Error) => {
    assert.ok(e instanceof SnappyFrameError);
    assert.match(e.message, /does not start with the stream identifier/);
    return true;
  });
  raw.close();
  framed.close();
});

async function decodeAll(bytes: Uint8Array): Promise<Uint8Array[]> {
  const [a, raw] = duplexPair();
  const framed = snappyFramed(a);
  const w = raw.direct!.write(bytes).then(() => raw.direct!.closeWrite());
  const out: Uint8Array[] = [];
  try {
    for await (const c of framed.readable) out.push(c);
  } finally {
    await w.catch(() => {});
    raw.close();
    framed.close();
  }
  return out;
}

const ID = "ff060000734e61507059";
const DATA_8 = "010c00004439ac2f0100000003000000"; // uncompressed chunk from the capture

Deno.test("snappy framing: padding, skippable chunks and repeated identifiers are passed over", async () => {
  const out = await decodeAll(hex(ID + "fe030000000000" + DATA_8 + "80020000abcd" + ID + DATA_8));
  assert.deepEqual(out.map(toHex), ["0100000003000000", "0100000003000000"]);
});

for (
  const [name, h, re] of [
    ["a checksum mismatch", ID + "010c00004439ac2f0100000003000001", /checksum mismatch in a 8-byte chunk/],
    ["a reserved unskippable chunk", ID + "02010000ff", /reserved unskippable chunk type 0x02/],
    ["an oversized chunk", ID + "01000002", /chunk type 0x01 of 131072 bytes exceeds 76494/],
    ["a truncated chunk", ID + "010c00004439ac2f0100", /stream ended inside a chunk/],
    ["a bad identifier body", "ff060000734e61507058", /bad stream identifier chunk/],
    ["a data chunk without checksum", ID + "01020000abcd", /has no checksum/],
    ["a corrupt compressed chunk", ID + "000600000000000005ff", /compressed chunk: snappy: corrupt input/],
  ] as const
) {
  Deno.test(`snappy framing: ${name} errors the stream with a clear message`, async () => {
    await assert.rejects(() => decodeAll(hex(h)), (e: Error) => {
      assert.ok(e instanceof SnappyFrameError, `${e}`);
      assert.match(e.message, re);
      return true;
    });
  });
}

Deno.test("snappy framing: an uncompressed chunk over 64 KiB of data is refused", async () => {
  const body = new Uint8Array(4 + 65537);
  const h = new Uint8Array([0x01, body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16]);
  await assert.rejects(
    () => decodeAll(new Uint8Array([...hex(ID), ...h, ...body])),
    /uncompressed chunk of 65537 bytes exceeds 65536/,
  );
});

Deno.test("snappy framing: direct reads decode whole blocks into the reader's buffer, smaller reads in parts", async () => {
  const [a, b] = duplexPair();
  const fa = snappyFramed(a);
  const fb = snappyFramed(b);
  const data = new TextEncoder().encode("0123456789abcdef".repeat(10000)); // 160000 bytes: 3 chunks
  const sending = fa.direct!.write(data).then(() => fa.direct!.closeWrite());
  const big = new Uint8Array(70000);
  const got: number[] = [];
  const joined = new Uint8Array(data.length);
  let o = 0;
  for (
    let n = await fb.direct!.read(big);
    n !== null;
    n = await fb.direct!.read(o < 65536 ? big : big.subarray(0, 1000))
  ) {
    got.push(n);
    joined.set(big.subarray(0, n), o);
    o += n;
  }
  await sending;
  assert.equal(got[0], 65536, "a whole block in one read");
  assert.ok(got.slice(1).every((n) => n <= 1000), `${got}`);
  assert.deepEqual(joined, data);
  fa.close();
  fb.close();
});

Deno.test("snappy framing: successive writes reuse one buffer, and what went out earlier stays intact", async () => {
  const [a, b] = duplexPair();
  const fa = snappyFramed(a);
  const fb = snappyFramed(b);
  const chunks = [1, 2, 3].map((k) => new Uint8Array(50000).fill(k));
  const sending = (async () => {
    for (const c of chunks) await fa.direct!.write(c);
    await fa.direct!.closeWrite();
  })();
  const parts: Uint8Array[] = [];
  for await (const c of fb.readable) parts.push(c);
  await sending;
  const joined = new Uint8Array(150000);
  let o = 0;
  for (const p of parts) (joined.set(p, o), o += p.length);
  assert.equal(o, 150000);
  for (const k of [0, 1, 2]) assert.ok(joined.subarray(k * 50000, (k + 1) * 50000).every((v) => v === k + 1));
  fa.close();
  fb.close();
});
