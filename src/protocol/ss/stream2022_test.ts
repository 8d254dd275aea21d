/**
 * Shadowsocks 2022 TCP against real gost 3.2.6: golden tests from `testdata/ss2022.json`
 * (captured on loopback from a real gost 3.2.6 binary, every message decrypted; its
 * `findings` say where gost departs from SIP022). Recorded requests are replayed into our
 * server, recorded responses into our client, and what we build is read the way gost reads it.
 */
import assert from "node:assert/strict";
import { concat } from "../../core/bytes.ts";
import { streamDuplex } from "../../core/duplex.ts";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { hex, toHex } from "../../../tests/_helpers.ts";
import { ChunkReader, ssNonce as nonce } from "../../../tests/_ss2022.ts";
import { Aead, blake3Subkey, lookupMethod, type MethodInfo, methodKey } from "./cipher.ts";
import { SaltFilter } from "./replay.ts";
import { clientStream, serverHandshake } from "./handshake.ts";
import { SsAuthError, StreamSealer } from "./stream.ts";

type Json = any;
const data: Json = JSON.parse(await Deno.readTextFile(new URL("./testdata/ss2022.json", import.meta.url)));
const vectors: Json[] = data.vectors;
const byId = (id: string): Json => vectors.find((v) => v.id === id)!;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = new TextEncoder();

/** The bytes of every `dir` event of `v`, joined (one TCP stream). */
function stream(v: Json, dir: string, conn?: string): Uint8Array {
  return hex(
    v.events.filter((e: Json) => e.dir === dir && (!conn || e.conn === conn)).map((e: Json) => e.hex).join(
      "",
    ),
  );
}

/** The capture clock (ms) of a decoded header: its timestamp minus how far it was off. */
function clock(chunk: Json): number {
  const ts = chunk.fields.timestamp;
  return Math.round((ts.value - ts.minus_capture_clock_s) * 1000);
}

function keys(v: Json): { method: MethodInfo; psk: Uint8Array } {
  const method = lookupMethod(v.method)!;
  return { method, psk: methodKey(method, v.key) };
}

/** A duplex that yields `chunks` (then ends) and records what is written to it. */
function scripted(chunks: Uint8Array[]) {
  const written: Uint8Array[] = [];
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({ write: (c) => void written.push(c) });
  return { d: streamDuplex({ readable, writable, close: () => {} }), written };
}

async function readToEnd(io: { read(b: Uint8Array): Promise<number | null> }): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await io.read(buf);
    if (n === null) return Uint8Array.from(parts);
    parts.push(...buf.subarray(0, n));
  }
}

Deno.test("gost 2022 TCP: every recorded chunk decrypts with our subkey and AEAD to the recorded plaintext", () => {
  let chunks = 0;
  for (const v of vectors) {
    for (const [name, dec] of Object.entries(v) as [string, Json][]) {
      if (!name.startsWith("decoded") || !dec.chunks) continue;
      const { method, psk } = keys(v);
      const salt = hex(dec.salt_hex);
      assert.equal(toHex(blake3Subkey(psk, salt)), dec.subkey_hex, `${v.id} ${name} subkey`);
      const aead = Aead.create(method.aead, blake3Subkey(psk, salt));
      const open = (ct: string, n: number) =>
        toHex(aead.openSync(nonce(n), hex(ct)) ?? new Uint8Array([0xde, 0xad]));
      for (const c of dec.chunks) {
        if (c.plain_hex) assert.equal(open(c.ciphertext_hex, c.nonce), c.plain_hex, `${v.id} ${c.chunk}`);
        else if (c.nonces) {
          assert.equal(open(c.length_ciphertext_hex, c.nonces[0]), c.length.toString(16).padStart(4, "0"));
          assert.equal(
            open(c.payload_ciphertext_hex, c.nonces[1]),
            c.payload_plain_hex,
            `${v.id} ${c.chunk}`,
          );
        } else {assert.equal(
            open(c.payload_ciphertext_hex, c.nonce),
            c.payload_plain_hex,
            `${v.id} ${c.chunk}`,
          );}
        chunks++;
      }
    }
  }
  assert.ok(chunks > 80, `${chunks} chunks`);
});

const gostRequests = vectors.filter((v) => v.decoded_stream_gost_to_recorder || v.decoded_request_stream);

for (const v of gostRequests) {
  Deno.test(`gost 2022 TCP ${v.id}: gost's request opens in our server; our answer has gost's layout`, async () => {
    const { method, psk } = keys(v);
    const dec = v.decoded_stream_gost_to_recorder ?? v.decoded_request_stream;
    const bytes = stream(v, v.decoded_request_stream ? "gost-client->gost-server" : "gost->recorder");
    const addr = dec.chunks[1].fields.socks_addr;
    const { d, written } = scripted([bytes]);
    const req = await serverHandshake(d, {
      method,
      psk,
      filter: new SaltFilter(),
      now: () => clock(dec.chunks[0]),
    });
    const host = addr.atyp === 4 ? `[${addr.host}]` : addr.host;
    assert.equal(req.target, `${host}:${addr.port}`);
    // gost writes the target as given (no resolving): our encoding of it is the same bytes.
    assert.equal(toHex(encodeSocksAddr(req.target)), addr.hex);
    const appData = v.events.filter((e: Json) => e.dir === "client->gost").map((e: Json) => e.hex).join("");
    assert.equal(toHex(await readToEnd(req.conn.direct!)), appData);

    await req.conn.direct!.write(enc.encode("world\n"));
    await req.conn.direct!.write(enc.encode("ok:again"));
    // Read the answer as gost's client does: one header of 11 + salt bytes, then chunks.
    const r = new ChunkReader(concat(written), method, psk);
    const head = r.open(1 + 8 + method.saltSize + 2);
    assert.equal(head[0], 1);
    assert.equal(toHex(head.subarray(9, 9 + method.saltSize)), dec.salt_hex, "request salt echoed");
    assert.equal(toHex(head.subarray(9 + method.saltSize)), "0000", "gost's layout: length 0");
    assert.equal(text(r.rest()), "world\nok:again");
  });
}

Deno.test("gost 2022 TCP: SIP022 requests gost's server took (padding only) or refused, in our server", async () => {
  for (const id of ["ss2022-server-aes-128-gcm-padding-only", "ss2022-server-aes-256-gcm-padding-only"]) {
    const v = byId(id);
    const req = await serverHandshake(scripted([stream(v, "client->gost")]).d, {
      ...keys(v),
      now: () => clock(v.decoded_request.chunks[0]),
    });
    assert.equal(req.target, `127.0.0.1:${v.decoded_request.chunks[1].fields.socks_addr.port}`);
    assert.equal(text(await readToEnd(req.conn.direct!)), "helloagain");
  }
  // Refused by gost and by us: no padding and no payload; 120 s old; the same salt twice.
  for (
    const id of [
      "ss2022-server-aes-128-gcm-no-padding-no-payload",
      "ss2022-server-aes-256-gcm-no-padding-no-payload",
      "ss2022-server-aes-256-gcm-stale-timestamp",
    ]
  ) {
    const v = byId(id);
    const now = () => clock(v.decoded_request.chunks[0]);
    await assert.rejects(
      serverHandshake(scripted([stream(v, "client->gost")]).d, { ...keys(v), now }),
      SsAuthError,
      id,
    );
  }
  const v = byId("ss2022-server-aes-256-gcm-replay");
  const opts = { ...keys(v), filter: new SaltFilter(), now: () => clock(v.decoded_request.chunks[0]) };
  await serverHandshake(scripted([stream(v, "client->gost", "client0")]).d, opts);
  await assert.rejects(
    serverHandshake(scripted([stream(v, "client->gost", "client1")]).d, opts),
    SsAuthError,
  );
});

for (const size of [128, 256]) {
  Deno.test(`gost 2022 TCP aes-${size}: a SIP022 request with initial payload (gost breaks on it) works here, answered SIP022's way`, async () => {
    const v = byId(`ss2022-server-aes-${size}-gcm-initial-payload`);
    const { method, psk } = keys(v);
    const { d, written } = scripted([stream(v, "client->gost")]);
    const req = await serverHandshake(d, { method, psk, now: () => clock(v.decoded_request.chunks[0]) });
    assert.equal(req.target, `127.0.0.1:${v.decoded_request.chunks[1].fields.socks_addr.port}`);
    assert.equal(text(await readToEnd(req.conn.direct!)), "helloagain");
    await req.conn.direct!.write(enc.encode("world\n"));
    await req.conn.direct!.write(enc.encode("ok:again"));
    const r = new ChunkReader(concat(written), method, psk);
    const head = r.open(1 + 8 + method.saltSize + 2);
    assert.equal(toHex(head.subarray(9 + method.saltSize)), "0006", "SIP022: the first payload's length");
    assert.equal(text(r.open(6)), "world\n");
    assert.equal(text(r.rest()), "ok:again");
  });
}

/** Recorded responses, with the request salt they answer and what the app received. */
const responses: [string, string, string | null][] = [
  ["ss2022-gost-to-gost-aes-128-gcm", "gost-server->gost-client", "world\nok:again"],
  ["ss2022-gost-to-gost-aes-256-gcm", "gost-server->gost-client", "world\nok:again"],
  ["ss2022-server-aes-128-gcm-padding-only", "gost->client", "world\nok:again"],
  ["ss2022-server-aes-256-gcm-padding-only", "gost->client", "world\nok:again"],
  ["ss2022-server-aes-256-gcm-replay", "gost->client", "world\n"],
  ["ss2022-connector-aes-256-gcm-answer-gost-layout", "recorder->gost", "world\n"],
  // SIP022's layout: gost's client fails on it, ours reads it.
  ["ss2022-connector-aes-256-gcm-answer-spec-layout", "recorder->gost", "world\n"],
  // An all-zero request salt: gost's client does not look, ours refuses it (SIP022).
  ["ss2022-connector-aes-256-gcm-answer-gost-layout-wrong-salt", "recorder->gost", null],
];

for (const [id, dir, want] of responses) {
  Deno.test(`gost 2022 TCP ${id}: the recorded response ${want ? "reads" : "is refused"} in our client`, async () => {
    const v = byId(id);
    const req = v.decoded_request ?? v.decoded_request_stream ?? v.decoded_stream_gost_to_recorder;
    const res = v.decoded_response ?? v.decoded_response_stream ?? v.decoded_response_recorder_to_gost;
    const bytes = stream(v, dir);
    // Whole, then a byte per read: the layout is found whatever the read boundaries.
    for (const chunks of [[bytes], [...bytes].map((b) => Uint8Array.of(b))]) {
      const client = await clientStream(scripted(chunks).d, encodeSocksAddr("127.0.0.1:80"), {
        ...keys(v),
        salt: hex(req.salt_hex),
        now: () => clock(res.chunks[0]),
      });
      if (want === null) await assert.rejects(readToEnd(client.direct!), SsAuthError);
      else assert.equal(text(await readToEnd(client.direct!)), want);
    }
  });
}

Deno.test("2022 TCP: a SIP022 response with header length 0 (an empty first chunk, then chunks) reads in our client", async () => {
  const method = lookupMethod("2022-blake3-aes-128-gcm")!;
  const psk = methodKey(method, "AAECAwQFBgcICQoLDA0ODw==");
  const reqSalt = new Uint8Array(16).fill(3), salt = new Uint8Array(16).fill(4);
  const head = new Uint8Array(1 + 8 + 16 + 2);
  head[0] = 1;
  new DataView(head.buffer).setBigUint64(1, BigInt(Math.floor(Date.now() / 1000)));
  head.set(reqSalt, 9);
  // With data after the empty chunk, and without (the server's target sent nothing).
  for (const data of ["late data", ""]) {
    const sealer = new StreamSealer(Aead.create(method.aead, blake3Subkey(psk, salt)), 0xffff);
    const bytes = await sealer.sealPieces(
      sealer.framePieces(enc.encode(data), [head, new Uint8Array(0)]),
      salt,
    );
    for (const chunks of [[bytes], [...bytes].map((b) => Uint8Array.of(b))]) {
      const client = await clientStream(scripted(chunks).d, encodeSocksAddr("127.0.0.1:80"), {
        method,
        psk,
        salt: reqSalt,
      });
      assert.equal(text(await readToEnd(client.direct!)), data);
    }
  }
});

for (const name of ["2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm"]) {
  for (const nodelay of [false, true]) {
    Deno.test(`gost 2022 TCP ${name}${nodelay ? " nodelay" : ""}: our request is what gost's server reads: padding, no initial payload`, async () => {
      const method = lookupMethod(name)!;
      const v = vectors.find((x) => x.method === name)!;
      const psk = methodKey(method, v.key);
      // gost's connector wrote this target as ATYP 3 (vector ...-domain): so do we.
      const gostAddr = byId("ss2022-connector-aes-256-gcm-domain").decoded_stream_gost_to_recorder.chunks[1]
        .fields.socks_addr;
      const { d, written } = scripted([]);
      const target = `${gostAddr.host}:${gostAddr.port}`;
      const client = await clientStream(d, encodeSocksAddr(target), { method, psk, nodelay });
      await client.direct!.write(enc.encode("hello"));
      await client.direct!.write(enc.encode("again"));
      assert.equal(written.length, nodelay ? 3 : 2, "nodelay: the header goes alone");
      const r = new ChunkReader(concat(written), method, psk);
      const fixed = r.open(11);
      assert.equal(fixed[0], 0);
      assert.ok(Math.abs(Number(new DataView(fixed.buffer).getBigUint64(1)) - Date.now() / 1000) < 2);
      const variable = r.open((fixed[9] << 8) | fixed[10]);
      assert.equal(toHex(variable.subarray(0, 13)), gostAddr.hex);
      const pad = (variable[13] << 8) | variable[14];
      assert.ok(pad >= 1 && pad < 900, `padding ${pad}`);
      assert.equal(variable.length, 13 + 2 + pad, "no initial payload (gost's server would drop it)");
      assert.equal(text(r.rest()), "helloagain");
    });
  }
}
