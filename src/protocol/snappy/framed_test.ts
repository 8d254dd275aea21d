import assert from "node:assert/strict";
import { duplexPair } from "../../core/pipe.ts";
import type { Duplex } from "../../core/duplex.ts";
import { encodeChunks, maskedCrc, snappyFramed, SnappyFrameError } from "./framed.ts";
import { SmuxSession } from "../smux/session.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

// The snappy-framed stream gost 3.2.6's KCP client sent (kcp.json "kcp-gost-to-gost-mitm",
// reassembled in sn order): identifier, then one uncompressed chunk per smux frame.
const GOST_CLIENT_STREAM = "ff060000734e61507059" + "010c00004439ac2f0100000003000000" +
  "0111000028beb005010205000300000068656c6c6f" + "010c000042893c770101000003000000";

async function readN(d: Duplex, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await d.direct!.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

Deno.test("snappy framing: encodes gost's chunks byte for byte", () => {
  assert.equal(hex(encodeChunks(unhex("0100000003000000"), true)), GOST_CLIENT_STREAM.slice(0, 52));
  assert.equal(
    hex(encodeChunks(unhex("010205000300000068656c6c6f"), false)),
    GOST_CLIENT_STREAM.slice(52, 94),
  );
  assert.equal(maskedCrc(unhex("0101000003000000")), 0x773c8942);
});

Deno.test("snappy framing: decodes the captured gost stream into smux frames", async () => {
  const [a, raw] = duplexPair();
  const framed = snappyFramed(a);
  const bytes = unhex(GOST_CLIENT_STREAM);
  // Split the capture at awkward places: every chunk straddles reads.
  for (let i = 0; i < bytes.length; i += 7) await raw.direct!.write(bytes.subarray(i, i + 7));
  await raw.direct!.closeWrite();
  const chunks: string[] = [];
  for await (const c of framed.readable) chunks.push(hex(c));
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
  assert.equal(hex(await readN(raw, GOST_CLIENT_STREAM.length / 2)), GOST_CLIENT_STREAM);
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
  assert.deepEqual(parts.map((p) => p.length), [65536, 65536, 28928]);
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
  await raw.direct!.write(unhex("010c00004439ac2f0100000003000000"));
  await assert.rejects(() => framed.readable.getReader().read(), (e: Error) => {
    assert.ok(e instanceof SnappyFrameError);
    assert.match(e.message, /does not start with the stream identifier/);
    return true;
  });
  raw.close();
  framed.close();
});
