import assert from "node:assert/strict";
import { concat } from "../bytes.ts";
import { duplexPair } from "../pipe.ts";
import { type Duplex, IODuplex, writeTo } from "../duplex.ts";
import { IN_CI, randomBytes, sha256 } from "../../../tests/_helpers.ts";
import { sleep } from "../timeout.ts";
import { socketDuplex } from "../socket.ts";
import { dialTlsTransport, tlsConnect } from "./client.ts";
import { TlsAcceptor } from "./server.ts";
import { selfSignedCert } from "./selfsigned.ts";

async function echoOnce(
  d: { direct?: { read(b: Uint8Array): Promise<number | null>; write(b: Uint8Array): Promise<void> } },
) {
  const buf = new Uint8Array(100);
  const n = (await d.direct!.read(buf))!;
  await d.direct!.write(buf.subarray(0, n));
}

Deno.test("tls: the client runs over a stream that is not a socket (a pipe), skip-verify by default", async () => {
  const server = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const serving = (async () => {
    const d = await server.secure(await l.accept());
    await echoOnce(d);
    d.close();
  })();
  // A pipe whose far end is joined to a TCP connection: TLS never sees the socket itself.
  const [near, far] = duplexPair();
  const tcp = socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
  const joining = Promise.all([
    far.readable.pipeTo(tcp.writable).catch(() => {}),
    tcp.readable.pipeTo(far.writable).catch(() => {}),
  ]);
  const secured = await tlsConnect(near, { serverName: "example.invalid", secure: false });
  await writeTo(secured, new TextEncoder().encode("ping"));
  const buf = new Uint8Array(10);
  assert.equal(new TextDecoder().decode(buf.subarray(0, (await secured.direct!.read(buf))!)), "ping");
  await serving;
  secured.close();
  tcp.close();
  await joining;
  l.close();
});

Deno.test("tls: secure=true verifies against caFile and the name; a mismatch fails", async () => {
  const pair = await selfSignedCert();
  const server = await TlsAcceptor.create({ pair });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for (let i = 0; i < 3; i++) {
      const c = await l.accept();
      server.secure(c).then(echoOnce).catch(() => {}).finally(() => {
        try {
          c.close();
        } catch {
          // closed by the TLS layer already
        }
      });
    }
  })();
  const dial = async () => socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
  const ok = await tlsConnect(await dial(), { serverName: "localhost", secure: true, ca: pair.cert });
  await writeTo(ok, Uint8Array.of(1));
  ok.close();
  await assert.rejects(async () =>
    tlsConnect(await dial(), { serverName: "other.example", secure: true, ca: pair.cert })
  );
  // Without the pinned CA, a self-signed certificate does not verify.
  await assert.rejects(async () => tlsConnect(await dial(), { serverName: "localhost", secure: true }));
  l.close();
  await serving.catch(() => {});
});

Deno.test("tls: with a CA the server asks for client certificates (mutual TLS)", async () => {
  const serverPair = await selfSignedCert();
  const clientPair = await selfSignedCert({ commonName: "client" });
  const server = await TlsAcceptor.create({ pair: serverPair, ca: clientPair.cert });
  assert.equal(server.mutual, true);
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const results: string[] = [];
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const c = await l.accept();
      await server.secure(c).then(async (d) => {
        results.push("accepted");
        await echoOnce(d);
        d.close();
      }, (err) => results.push(`refused: ${err.message}`));
    }
  })();
  const dial = async () => socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
  const ok = await tlsConnect(await dial(), { serverName: "localhost", secure: false, pair: clientPair });
  await writeTo(ok, Uint8Array.of(7));
  const buf = new Uint8Array(4);
  assert.equal(await ok.direct!.read(buf), 1);
  ok.close();
  // No client certificate: refused during or right after the handshake.
  const failed = await tlsConnect(await dial(), { serverName: "localhost", secure: false }).then(
    async (d) => {
      const n = await d.direct!.read(buf).catch(() => null);
      d.close();
      return n === null;
    },
    () => true,
  );
  assert.ok(failed);
  await serving;
  assert.equal(results[0], "accepted");
  assert.match(results[1], /^refused/);
  l.close();
});

Deno.test("tls: decrypted bytes nobody reads hold the transport (bounded buffering), then all arrive", async () => {
  const server = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const total = 16 * 1024 * 1024;
  const serving = (async () => {
    const d = await server.secure(await l.accept());
    const chunk = new Uint8Array(64 * 1024).fill(7);
    for (let sent = 0; sent < total; sent += chunk.length) await d.direct!.write(chunk);
    await d.direct!.closeWrite();
    await d.direct!.read(new Uint8Array(1)).catch(() => null);
    d.close();
  })();
  // Count what the client's TLS layer pulls from its socket while the application reads nothing.
  const tcp = socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
  const raw = tcp.direct!;
  let pulled = 0;
  const counting = new IODuplex({
    read: async (b) => {
      const n = await raw.read(b);
      if (n) pulled += n;
      return n;
    },
    write: (b) => raw.write(b),
    closeWrite: () => raw.closeWrite(),
  }, () => tcp.close());
  const secured = await tlsConnect(counting, { serverName: "localhost", secure: false });
  await sleep(500);
  assert.ok(pulled < 2 * 1024 * 1024, `pulled ${pulled} bytes with no reader`);
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  for (;;) {
    const n = await secured.direct!.read(buf);
    if (n === null) break;
    assert.equal(buf[n - 1], 7);
    got += n;
  }
  assert.equal(got, total);
  secured.close();
  await serving;
  l.close();
});

/** Reads `d` to its end; returns everything. */
async function readAll(d: Duplex): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await d.direct!.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

Deno.test("tls: over a dialed native socket, 8 MiB each way with half-close, byte-exact", async () => {
  const server = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const up = randomBytes(8 * 1024 * 1024);
  const down = randomBytes(8 * 1024 * 1024);
  const serving = (async () => {
    const d = await server.secure(await l.accept());
    // The client's half-close ends our read while our direction stays open.
    const got = await readAll(d);
    await d.direct!.write(down);
    await d.direct!.closeWrite();
    d.close();
    return got;
  })();
  const transport = await dialTlsTransport(`127.0.0.1:${port}`, { timeout: 5000 });
  assert.match(transport.remote, new RegExp(`:${port}$`));
  const secured = await tlsConnect(transport, { serverName: "127.0.0.1", secure: false });
  await secured.direct!.write(up);
  await secured.direct!.closeWrite();
  const back = await readAll(secured);
  secured.close();
  assert.equal(await sha256(await serving), await sha256(up));
  assert.equal(await sha256(back), await sha256(down));
  l.close();
});

Deno.test("tls: over a native socket, bytes nobody reads stop the sender (bounded buffering)", async () => {
  const server = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const total = 64 * 1024 * 1024;
  let sent = 0;
  const serving = (async () => {
    const d = await server.secure(await l.accept());
    const chunk = new Uint8Array(64 * 1024).fill(7);
    for (; sent < total; sent += chunk.length) await d.direct!.write(chunk);
    await d.direct!.closeWrite();
    d.close();
  })();
  const secured = await tlsConnect(await dialTlsTransport(`127.0.0.1:${port}`, { timeout: 5000 }), {
    serverName: "localhost",
    secure: false,
  });
  await sleep(500);
  // Our queue (512 KiB) plus both kernels' socket buffers; far below what was offered.
  assert.ok(sent < 16 * 1024 * 1024, `the server got ${sent} bytes out with no reader`);
  let got = 0;
  const buf = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await secured.direct!.read(buf);
    if (n === null) break;
    got += n;
  }
  assert.equal(got, total);
  secured.close();
  await serving;
  l.close();
});

Deno.test("tls: a refused dial names the address; an aborted one stops", async () => {
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  await assert.rejects(
    () => dialTlsTransport(`127.0.0.1:${port}`, { timeout: 5000 }),
    new RegExp(`dial 127.0.0.1:${port}`),
  );
  const ctl = new AbortController();
  ctl.abort(new Error("stopped"));
  await assert.rejects(
    () => dialTlsTransport(`127.0.0.1:${port}`, { timeout: 5000, signal: ctl.signal }),
    /stopped/,
  );
});

for (const native of [true, false]) {
  Deno.test(`tls: the server (${native ? "Deno's TLS" : "node:tls"}) ends a handshake whose client sent its FIN at once, and closing a stalled one closes its socket`, async () => {
    const server = await TlsAcceptor.create({ pair: await selfSignedCert() }, undefined, { native });
    const l = await server.listen("127.0.0.1:0");
    if (native && IN_CI) assert.ok(server.native, "Deno's TLS serves where the libc grant is");
    try {
      for (const how of ["fin", "close"]) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
        const conn = await l.accept();
        const handshake = server.secure(conn);
        handshake.catch(() => {});
        await c.write(new Uint8Array([22, 3, 1, 0, 200, 1, 0])); // half a ClientHello
        const t0 = performance.now();
        if (how === "fin") await c.closeWrite();
        else {
          await sleep(50);
          conn.close(); // what the handshake deadline does
        }
        await assert.rejects(handshake, /closed during the TLS handshake/);
        // The socket is really gone: the client reads the end of stream, not a stall.
        assert.equal(await c.read(new Uint8Array(10)), null);
        assert.ok(performance.now() - t0 < 1000, `${how}: ended after ${performance.now() - t0} ms`);
        c.close();
      }
    } finally {
      l.close();
    }
  });
}

/** `c` without its resource id: the server cannot adopt it and runs TLS through the stream adapter. */
function unadoptable(c: Deno.Conn): Deno.Conn {
  return {
    get localAddr() {
      return c.localAddr;
    },
    get remoteAddr() {
      return c.remoteAddr;
    },
    read: (b: Uint8Array) => c.read(b),
    write: (b: Uint8Array) => c.write(b),
    closeWrite: () => c.closeWrite(),
    close: () => c.close(),
  } as unknown as Deno.Conn;
}

Deno.test("tls: the server's fallback over the stream adapter: 1 MiB each way with half-close, and a FIN mid-handshake", async () => {
  const server = await TlsAcceptor.create({ pair: await selfSignedCert() }, undefined, { native: false });
  const l = await server.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  try {
    const up = randomBytes(1024 * 1024), down = randomBytes(1024 * 1024, 2);
    const serving = (async () => {
      const d = await server.secure(unadoptable(await l.accept()));
      const got = await readAll(d);
      await d.direct!.write(down);
      await d.direct!.closeWrite();
      d.close();
      return got;
    })();
    const secured = await tlsConnect(await dialTlsTransport(`127.0.0.1:${port}`, { timeout: 5000 }), {
      serverName: "127.0.0.1",
      secure: false,
    });
    await secured.direct!.write(up);
    await secured.direct!.closeWrite();
    const back = await readAll(secured);
    secured.close();
    assert.equal(await sha256(await serving), await sha256(up));
    assert.equal(await sha256(back), await sha256(down));

    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const handshake = server.secure(unadoptable(await l.accept()));
    handshake.catch(() => {});
    await c.write(new Uint8Array([22, 3, 1, 0, 200, 1, 0]));
    await c.closeWrite();
    await assert.rejects(handshake, /closed during the TLS handshake/);
    assert.equal(await c.read(new Uint8Array(10)), null);
    c.close();
  } finally {
    l.close();
  }
});
