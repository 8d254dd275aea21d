import assert from "node:assert/strict";
import { type Duplex, streamDuplex } from "../../core/duplex.ts";
import { socketDuplex } from "../../core/socket.ts";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { lookupMethod, type MethodInfo, methodKey, SUPPORTED_METHODS } from "./cipher.ts";
import { nativeCryptoActive, setNativeCrypto } from "./openssl.ts";
import { SaltFilter } from "./replay.ts";
import { clientStream, serverHandshake } from "./handshake.ts";
import { SsAuthError, SsTruncatedError, StreamSealer } from "./stream.ts";
import { Aead } from "./cipher.ts";
import { hex, toHex } from "../../../tests/_helpers.ts";

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/ss.json", import.meta.url)),
);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** A duplex that yields `chunks` and records what is written to it. */
function scripted(chunks: Uint8Array[], opts: { hang?: boolean } = {}) {
  const written: Uint8Array[] = [];
  let closed = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      if (!opts.hang) c.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({ write: (c) => void written.push(c) });
  const d = streamDuplex({ readable, writable, close: () => (closed = true) });
  return {
    d,
    written,
    get closed() {
      return closed;
    },
  };
}

/** Two connected TCP sockets on loopback. */
async function socketPair(): Promise<[Duplex, Duplex, () => void]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
    l.accept(),
  ]);
  l.close();
  return [socketDuplex(a), socketDuplex(b), () => {}];
}

async function readAll(d: Duplex, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  const io = d.direct!;
  while (got < n) {
    const k = await io.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return out.subarray(0, got);
}

for (const v of vectors.vectors.filter((x: { id: string }) => x.id.startsWith("ss-connector"))) {
  Deno.test(`golden: gost ${v.id} stream decrypts with our server side`, async () => {
    const dec = v.decoded_stream_gost_to_recorder;
    const method = lookupMethod(dec.method)!;
    const psk = methodKey(method, dec.password);
    assert.equal(toHex(psk), dec.psk_hex);
    const bytes = v.events.filter((e: { dir?: string }) => e.dir === "gost->recorder").map((
      e: { hex: string },
    ) => hex(e.hex));
    const { d } = scripted(bytes);
    const req = await serverHandshake(d, { method, psk });
    assert.equal(req.target, "127.0.0.1:17602");
    const got = await readAll(req.conn, 100);
    assert.equal(text(got), "helloagain");
  });
}

for (const v of vectors.vectors.filter((x: { id: string }) => x.id.startsWith("ss-server"))) {
  const method = lookupMethod(v.id.replace("ss-server-", ""))!;
  const [good, bad] = v.events.filter((e: { dir?: string }) => e.dir === "client->gost").map((
    e: { hex: string },
  ) => hex(e.hex));
  Deno.test(`golden: ${v.id} request opens to target and payload`, async () => {
    const { d } = scripted([good]);
    const req = await serverHandshake(d, { method, psk: methodKey(method, "testpass") });
    assert.equal(req.target, "127.0.0.1:17602");
    assert.equal(text(await readAll(req.conn, 10)), "hello");
  });
  Deno.test(`golden: ${v.id} wrong password is an auth error`, async () => {
    const { d, written } = scripted([bad]);
    await assertRejectsWith(serverHandshake(d, { method, psk: methodKey(method, "testpass") }), SsAuthError);
    assert.equal(written.length, 0);
  });
  Deno.test(`${v.id}: a replayed request is refused`, async () => {
    const filter = new SaltFilter();
    const keys = { method, psk: methodKey(method, "testpass"), filter };
    await serverHandshake(scripted([good]).d, keys);
    await assertRejectsWith(serverHandshake(scripted([good]).d, keys), SsAuthError);
  });
  Deno.test(`${v.id}: truncated salt and truncated chunk`, async () => {
    const keys = { method, psk: methodKey(method, "testpass") };
    await assertRejectsWith(serverHandshake(scripted([good.subarray(0, 10)]).d, keys), SsTruncatedError);
    await assertRejectsWith(serverHandshake(scripted([good.subarray(0, 40)]).d, keys), SsTruncatedError);
  });
}

async function assertRejectsWith(p: Promise<unknown>, cls: new (...a: never[]) => Error) {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    return true;
  });
}

const KEYS: Record<string, string> = {
  "2022-blake3-aes-128-gcm": btoa(String.fromCharCode(...new Uint8Array(16).fill(7))),
  "2022-blake3-aes-256-gcm": btoa(String.fromCharCode(...new Uint8Array(32).fill(9))),
};

for (const name of SUPPORTED_METHODS) {
  const method = lookupMethod(name)!;
  const psk = methodKey(method, KEYS[name] ?? "secret");
  for (
    const [nodelay, backend] of [[false, "deno"], [true, "deno"], [false, "libcrypto"]] as const
  ) {
    Deno.test(`round trip ${name}${nodelay ? " nodelay" : ""} (${backend} crypto): 1 MiB each way over TCP`, async () => {
      setNativeCrypto(backend === "libcrypto");
      try {
        assert.equal(nativeCryptoActive(), backend === "libcrypto", "libcrypto loads under --allow-ffi");
        await roundTrip(method, psk, nodelay);
      } finally {
        setNativeCrypto(true);
      }
    });
  }
}

async function roundTrip(method: MethodInfo, psk: Uint8Array, nodelay: boolean): Promise<void> {
  const [a, b] = await socketPair();
  const filter = new SaltFilter();
  const target = "example.com:443";
  const client = await clientStream(a, encodeSocksAddr(target), { method, psk, nodelay });
  const payload = random(1 << 20);
  const writing = (async () => {
    // uneven writes, bigger than one chunk and tiny ones
    for (let off = 0, step = 1; off < payload.length; off += step, step = step * 3 % 70001 + 1) {
      await client.direct!.write(payload.subarray(off, Math.min(payload.length, off + step)));
    }
    await client.direct!.closeWrite();
  })();
  const req = await serverHandshake(b, { method, psk, filter });
  assert.equal(req.target, target);
  const got = await readAll(req.conn, payload.length + 1);
  await writing;
  assert.equal(got.length, payload.length);
  assert.deepEqual(got, payload);
  // and back
  const back = payload.subarray(0, 300_000);
  const echo = (async () => {
    await req.conn.direct!.write(back);
    await req.conn.direct!.closeWrite();
  })();
  const reply = await readAll(client, back.length + 1);
  await echo;
  assert.deepEqual(reply, back);
  client.close();
  req.conn.close();
}

Deno.test("2022: a stale timestamp is refused as a replay", async () => {
  const method = lookupMethod("2022-blake3-aes-128-gcm")!;
  const psk = methodKey(method, KEYS[method.name]);
  const [a, b] = await socketPair();
  const client = await clientStream(a, encodeSocksAddr("1.2.3.4:80"), {
    method,
    psk,
    nodelay: true,
    now: () => Date.now() - 60_000,
  });
  await assertRejectsWith(serverHandshake(b, { method, psk }), SsAuthError);
  client.close();
  b.close();
});

Deno.test("2022: the client checks the request salt echoed by the server", async () => {
  const method = lookupMethod("2022-blake3-aes-256-gcm")!;
  const psk = methodKey(method, KEYS[method.name]);
  const [a, b] = await socketPair();
  const client = await clientStream(a, encodeSocksAddr("1.2.3.4:80"), { method, psk, nodelay: true });
  const req = await serverHandshake(b, { method, psk });
  await req.conn.direct!.write(new TextEncoder().encode("pong"));
  assert.equal(text(await readAll(client, 4)), "pong");
  client.close();
  req.conn.close();
});

Deno.test("an oversized length is an auth error (never a huge allocation)", async () => {
  const method = lookupMethod("aes-128-gcm")!;
  const psk = methodKey(method, "x");
  // Build a valid stream, then forge: a sealed length of 0xFFFF needs the key, so seal one.
  const { StreamSealer } = await import("./stream.ts");
  const { Aead, sessionSubkey } = await import("./cipher.ts");
  const salt = new Uint8Array(16).fill(1);
  const sealer = new StreamSealer(Aead.create(method.aead, sessionSubkey(method, psk, salt)), 0x3fff);
  const bytes = await sealer.sealPieces([new Uint8Array([0xff, 0xff])], salt);
  await assertRejectsWith(serverHandshake(scripted([bytes]).d, { method, psk }), SsAuthError);
});

Deno.test("2022 keys must be base64 of the right size", () => {
  assert.throws(() => methodKey(lookupMethod("2022-blake3-aes-128-gcm")!, "short"), /16 bytes/);
  assert.throws(
    () => methodKey(lookupMethod("2022-blake3-aes-256-gcm")!, KEYS["2022-blake3-aes-128-gcm"]),
    /got 16/,
  );
});

Deno.test("libcrypto: reads of every size get the exact bytes, payloads larger than the buffer included", async () => {
  // Payloads that fit are opened straight into the reader's buffer; one larger than the buffer
  // goes through the frame queue. Mixed read sizes take both paths in turn.
  for (const name of ["aes-256-gcm", "2022-blake3-aes-128-gcm"]) {
    const method = lookupMethod(name)!;
    const psk = methodKey(method, KEYS[name] ?? "secret");
    const [a, b] = await socketPair();
    const client = await clientStream(a, encodeSocksAddr("example.com:443"), { method, psk });
    const payload = random(600_000);
    const writing = (async () => {
      for (
        let off = 0, step = 70_000;
        off < payload.length;
        off += step, step = step === 70_000 ? 5 : 70_000
      ) {
        await client.direct!.write(payload.subarray(off, off + step));
      }
      await client.direct!.closeWrite();
    })();
    const req = await serverHandshake(b, { method, psk });
    const got = new Uint8Array(payload.length + 1);
    let n = 0;
    for (let i = 0;; i++) {
      const size = [1, 1000, 0x3fff + 1, 70_000, 200_000][i % 5];
      const k = await req.conn.direct!.read(got.subarray(n, n + size));
      if (k === null) break;
      assert.ok(k > 0 && k <= size, `read ${k} into ${size}`);
      n += k;
    }
    await writing;
    assert.equal(n, payload.length, name);
    assert.deepEqual(got.subarray(0, n), payload, name);
    client.close();
    req.conn.close();
  }
});

Deno.test("libcrypto: frames sealed in one buffer are the bytes the piecewise sealer gives", async () => {
  for (const [alg, max] of [["aes-gcm", 0x3fff], ["chacha20-poly1305", 0xffff]] as const) {
    const key = random(32);
    const direct = new StreamSealer(Aead.create(alg, key), max);
    const pieces = new StreamSealer(Aead.create(alg, key), max);
    assert.ok(direct.direct, "libcrypto loads under --allow-ffi");
    for (const n of [1, 100, max - 1, max, max + 1, 3 * max + 17]) {
      const data = random(n);
      const out = new Uint8Array(direct.sealedSize(n) + 3).fill(0xee);
      assert.equal(direct.sealTo(data, out), direct.sealedSize(n), `${alg} ${n}`);
      assert.deepEqual(out.subarray(0, direct.sealedSize(n)), await pieces.seal(data), `${alg} ${n}`);
      assert.deepEqual(
        out.subarray(direct.sealedSize(n)),
        new Uint8Array(3).fill(0xee),
        "nothing past the end",
      );
    }
  }
});
