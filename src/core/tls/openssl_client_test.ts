import assert from "node:assert/strict";
import * as tls from "node:tls";
import { concat } from "../bytes.ts";
import type { Duplex } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import { IN_CI, randomBytes, sha256 } from "../../../tests/_helpers.ts";
import {
  opensslClientAvailable,
  opensslConnect,
  OpensslSessions,
  setOpensslClient,
} from "./openssl_client.ts";
import { tlsConnect, usesOpenssl } from "./client.ts";
import { TlsAcceptor } from "./server.ts";
import { selfSignedCert } from "./selfsigned.ts";

const available = opensslClientAvailable();
if (!available && IN_CI) throw new Error("libssl is not at any path of NATIVE_LIBRARIES (or FFI is denied)");

/** Test only where libssl loads (Debian's libssl3 is on every machine that has openssl). */
function sslTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `openssl client: ${name}`, ignore: !available, fn });
}

async function tcpTo(port: number): Promise<Duplex> {
  return socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port }));
}

/** Reads `d` to its end; returns everything. */
async function readAll(d: Duplex): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await d.direct!.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

for (const native of [true, false]) {
  const server = native ? "Deno's TLS listener" : "node:tls listener";
  sslTest(`4 MiB each way with half-close through our ${server}, byte-exact`, async () => {
    const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() }, undefined, { native });
    const l = await acceptor.listen("127.0.0.1:0");
    const up = randomBytes(4 * 1024 * 1024);
    const down = randomBytes(4 * 1024 * 1024);
    const serving = (async () => {
      const d = await acceptor.secure(await l.accept());
      // Our half-close (close_notify) ends the server's read while its direction stays open.
      const got = await readAll(d);
      await d.direct!.write(down);
      await d.direct!.closeWrite();
      d.close();
      return got;
    })();
    const { duplex } = await opensslConnect(await tcpTo((l.addr as Deno.NetAddr).port), {});
    await duplex.direct!.write(up);
    await duplex.direct!.closeWrite();
    const back = await readAll(duplex);
    duplex.close();
    assert.equal(await sha256(await serving), await sha256(up));
    assert.equal(await sha256(back), await sha256(down));
    l.close();
  });
}

sslTest("sends SNI and the ALPN offer; the server's session resumes the next handshake", async () => {
  const pair = await selfSignedCert();
  const seen: { servername?: string | false; alpn?: string | false | null }[] = [];
  const server = tls.createServer({ cert: pair.cert, key: pair.key, ALPNProtocols: ["h2"] }, (s) => {
    seen.push({ servername: (s as unknown as { servername?: string }).servername, alpn: s.alpnProtocol });
    s.once("data", (b) => s.end(b));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const sessions = new OpensslSessions();
  const resumed: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await opensslConnect(await tcpTo(port), {
      sni: "gost.example",
      alpn: ["h2", "http/1.1"],
      sessions,
      sessionKey: "gost.example",
    });
    resumed.push(c.resumed);
    await c.duplex.direct!.write(new Uint8Array([i]));
    const buf = new Uint8Array(16);
    assert.equal(await c.duplex.direct!.read(buf), 1);
    assert.equal(buf[0], i);
    c.duplex.close();
  }
  await new Promise<void>((r) => server.close(() => r()));
  assert.deepEqual(seen.map((s) => s.alpn), ["h2", "h2", "h2"]);
  assert.deepEqual(seen.map((s) => s.servername), ["gost.example", "gost.example", "gost.example"]);
  assert.equal(resumed[0], false);
  assert.ok(resumed.slice(1).every(Boolean), `later handshakes resume: ${resumed}`);
});

sslTest("each ticket is offered once, and each handshake keeps the server's new one", async () => {
  const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await acceptor.listen("127.0.0.1:0");
  const port = (l.addr as Deno.NetAddr).port;
  const total = 1 + 2 + 2 + 2;
  const serving = (async () => {
    const all: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const c = await l.accept();
      all.push((async () => {
        const d = await acceptor.secure(c);
        const buf = new Uint8Array(8);
        await d.direct!.write(buf.subarray(0, (await d.direct!.read(buf))!));
        d.close();
      })());
    }
    await Promise.all(all);
  })();
  const sessions = new OpensslSessions();
  const once = async () => {
    const c = await opensslConnect(await tcpTo(port), { sessions, sessionKey: "k" });
    await c.duplex.direct!.write(new Uint8Array([1]));
    assert.equal(await c.duplex.direct!.read(new Uint8Array(8)), 1);
    c.duplex.close();
    return c.resumed;
  };
  assert.equal(await once(), false);
  const kept = sessions.count("k");
  assert.ok(kept >= 1, "the server's ticket is kept");
  // Our listener (rustls) takes each ticket once: of two handshakes at once, as many resume as
  // tickets were kept, and every one hands at least one new ticket back.
  const both = await Promise.all([once(), once()]);
  assert.equal(both.filter(Boolean).length, Math.min(kept, 2));
  assert.ok(sessions.count("k") >= 2);
  assert.deepEqual(await Promise.all([once(), once()]), [true, true]);
  assert.deepEqual(await Promise.all([once(), once()]), [true, true]);
  await serving;
  l.close();
});

sslTest("a server that does not speak TLS fails the handshake with the library's reason", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const c = await l.accept();
    await c.read(new Uint8Array(1024));
    await c.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    c.close();
  })();
  await assert.rejects(
    opensslConnect(await tcpTo((l.addr as Deno.NetAddr).port), {}),
    /TLS handshake failed: .*(wrong version number|packet length too long|record layer failure)/,
  );
  await serving;
  l.close();
});

sslTest("a record changed on the way fails the read with the library's reason, cleanly", async () => {
  const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await acceptor.listen("127.0.0.1:0");
  const serving = (async () => {
    const d = await acceptor.secure(await l.accept());
    await d.direct!.write(randomBytes(64 * 1024));
    await d.direct!.closeWrite().catch(() => {});
    d.close();
  })();
  // A man in the middle that flips one bit deep inside the server's application data.
  const mitm = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tampering = (async () => {
    const client = await mitm.accept();
    const server = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
    const up = client.readable.pipeTo(server.writable).catch(() => {});
    let seen = 0;
    const down = server.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          const at = 20_000 - seen;
          if (at >= 0 && at < chunk.length) chunk[at] ^= 0x01;
          seen += chunk.length;
          out.enqueue(chunk);
        },
      }),
    ).pipeTo(client.writable).catch(() => {});
    await Promise.all([up, down]);
  })();
  const { duplex } = await opensslConnect(await tcpTo((mitm.addr as Deno.NetAddr).port), {});
  await assert.rejects(readAll(duplex), /TLS read failed: .*(bad record mac|decrypt|cipher)/i);
  duplex.close();
  await serving.catch(() => {});
  await tampering;
  mitm.close();
  l.close();
});

sslTest(
  "a server that closes mid-handshake fails it as closed, and the next handshake still works",
  async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = (async () => {
      const c = await l.accept();
      await c.read(new Uint8Array(4096));
      c.close();
    })();
    await assert.rejects(
      opensslConnect(await tcpTo((l.addr as Deno.NetAddr).port), {}),
      /connection closed during the TLS handshake/,
    );
    await serving;
    l.close();
    // The thread's error queue was left clean: a good handshake right after is not failed by it.
    const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
    const good = await acceptor.listen("127.0.0.1:0");
    const echo = (async () => {
      const d = await acceptor.secure(await good.accept());
      const buf = new Uint8Array(8);
      await d.direct!.write(buf.subarray(0, (await d.direct!.read(buf))!));
      d.close();
    })();
    const { duplex } = await opensslConnect(await tcpTo((good.addr as Deno.NetAddr).port), {});
    await duplex.direct!.write(new Uint8Array([5]));
    assert.equal(await duplex.direct!.read(new Uint8Array(8)), 1);
    duplex.close();
    await echo;
    good.close();
  },
);

sslTest(
  "closing while a read waits ends that read, and later calls fail without touching freed state",
  async () => {
    const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
    const l = await acceptor.listen("127.0.0.1:0");
    let served: Duplex | undefined;
    const serving = (async () => served = await acceptor.secure(await l.accept()))();
    const { duplex } = await opensslConnect(await tcpTo((l.addr as Deno.NetAddr).port), {});
    await serving;
    const pending = duplex.direct!.read(new Uint8Array(8192)).catch((err) => err);
    await new Promise((r) => setTimeout(r, 20));
    duplex.close();
    const result = await pending;
    assert.ok(result === null || result instanceof Error, `the read ended: ${result}`);
    await assert.rejects(duplex.direct!.write(new Uint8Array([1])), /TLS connection closed/);
    assert.equal(await duplex.direct!.read(new Uint8Array(8)), null);
    served!.close();
    l.close();
  },
);

Deno.test("tls client: gost's default handshake goes to libssl, verifying or presenting a certificate does not", async () => {
  assert.equal(usesOpenssl({ secure: false }), available);
  assert.equal(usesOpenssl({ secure: true }), false);
  assert.equal(usesOpenssl({ secure: false, pair: { cert: "c", key: "k" } }), false);
  setOpensslClient(false);
  try {
    assert.equal(usesOpenssl({ secure: false }), false);
    // With libssl off, the same handshake runs on node:tls.
    const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
    const l = await acceptor.listen("127.0.0.1:0");
    const serving = (async () => {
      const d = await acceptor.secure(await l.accept());
      const buf = new Uint8Array(8);
      await d.direct!.write(buf.subarray(0, (await d.direct!.read(buf))!));
      d.close();
    })();
    const d = await tlsConnect(await tcpTo((l.addr as Deno.NetAddr).port), {
      serverName: "x.test",
      secure: false,
    });
    await d.direct!.write(new Uint8Array([3]));
    assert.equal(await d.direct!.read(new Uint8Array(8)), 1);
    d.close();
    await serving;
    l.close();
  } finally {
    setOpensslClient(true);
  }
});
