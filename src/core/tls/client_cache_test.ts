import assert from "node:assert/strict";
import * as tls from "node:tls";
import { rootLogger } from "../log.ts";
import { freePort, startGost, tcpEchoServer } from "../../../tests/_helpers.ts";
import { tlsDialer } from "../../dialer/tls.ts";
import type { DialerInit } from "../../dialer/registry.ts";
import type { Dialer } from "../types.ts";
import { TlsAcceptor } from "./server.ts";
import { selfSignedCert } from "./selfsigned.ts";
import { TlsClientCache } from "./client_cache.ts";

function dialerFor(
  addr: string,
  metadata: Record<string, unknown> = {},
): Dialer & { cfg: { cache: TlsClientCache } } {
  const init: DialerInit = { path: "node", nodeAddr: addr, metadata, log: rootLogger };
  return tlsDialer.create(init, tlsDialer.options.parse(init.metadata, "node")) as never;
}

/** One echoed byte over a new TLS connection through `dialer`. */
async function roundTrip(dialer: Dialer, addr: string): Promise<void> {
  const ctx = { log: rootLogger };
  const conn = await dialer.handshake!(await dialer.dial(addr, ctx), addr, ctx);
  try {
    await conn.direct!.write(new Uint8Array([7]));
    const buf = new Uint8Array(1);
    assert.equal(await conn.direct!.read(buf), 1);
    assert.equal(buf[0], 7);
  } finally {
    conn.close();
  }
  // The session arrives with the server's tickets, after the handshake; let it land.
  await new Promise((r) => setTimeout(r, 30));
}

Deno.test("tls client cache: a second connection through a tls dialer to our tls listener resumes", async () => {
  const acceptor = await TlsAcceptor.create({ pair: await selfSignedCert() });
  const l = await acceptor.listen("127.0.0.1:0");
  const addr = `127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  const serving = (async () => {
    for (let i = 0; i < 3; i++) {
      const d = await acceptor.secure(await l.accept());
      const buf = new Uint8Array(1);
      const n = await d.direct!.read(buf);
      await d.direct!.write(buf.subarray(0, n!));
      d.close();
    }
  })();
  const dialer = dialerFor(addr);
  await roundTrip(dialer, addr);
  assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 1, resumed: 0 });
  await roundTrip(dialer, addr);
  await roundTrip(dialer, addr);
  assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 3, resumed: 2 });
  await serving;
  l.close();
});

Deno.test("tls client: a dialer that does not verify builds no peer certificate, one that verifies does", async () => {
  const pair = await selfSignedCert();
  const acceptor = await TlsAcceptor.create({ pair });
  const l = await acceptor.listen("127.0.0.1:0");
  const addr = `127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  const serving = (async () => {
    for (let i = 0; i < 4; i++) {
      const d = await acceptor.secure(await l.accept());
      const buf = new Uint8Array(1);
      await d.direct!.write(buf.subarray(0, (await d.direct!.read(buf))!));
      d.close();
    }
  })();
  const proto = tls.TLSSocket.prototype;
  const real = proto.getPeerCertificate;
  let calls = 0;
  proto.getPeerCertificate = function (this: tls.TLSSocket, detailed?: boolean) {
    calls++;
    return real.call(this, detailed as true);
  } as typeof real;
  const ca = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    const skipping = dialerFor(addr);
    // The second and third resume: Deno asks for the certificate after every handshake
    // without a verification error.
    for (let i = 0; i < 3; i++) await roundTrip(skipping, addr);
    assert.deepEqual(skipping.cfg.cache.counts, { handshakes: 3, resumed: 2 });
    assert.equal(calls, 0);
    await Deno.writeTextFile(ca, pair.cert);
    await roundTrip(dialerFor(addr, { secure: true, serverName: "localhost", caFile: ca }), addr);
    assert.ok(calls > 0, "the verifying handshake checked the certificate's names");
  } finally {
    proto.getPeerCertificate = real;
    await Deno.remove(ca);
  }
  await serving;
  l.close();
});

Deno.test("tls client cache: a dialer that verifies the server never resumes", async () => {
  const pair = await selfSignedCert();
  const acceptor = await TlsAcceptor.create({ pair });
  const l = await acceptor.listen("127.0.0.1:0");
  const addr = `127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const d = await acceptor.secure(await l.accept());
      const buf = new Uint8Array(1);
      await d.direct!.write(buf.subarray(0, (await d.direct!.read(buf))!));
      d.close();
    }
  })();
  const ca = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(ca, pair.cert);
    const dialer = dialerFor(addr, { secure: true, serverName: "localhost", caFile: ca });
    await roundTrip(dialer, addr);
    await roundTrip(dialer, addr);
    assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 2, resumed: 0 });
  } finally {
    await Deno.remove(ca);
  }
  await serving;
  l.close();
});

Deno.test("tls client cache: a ticket the server no longer takes (restarted: new keys) falls back to a full handshake", async () => {
  using echo = tcpEchoServer();
  const port = freePort();
  const addr = `127.0.0.1:${port}`;
  const dialer = dialerFor(addr);
  {
    await using _g = await startGost(["-L", `tls://${addr}/127.0.0.1:${echo.port}`]);
    await roundTrip(dialer, addr);
    await roundTrip(dialer, addr);
    assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 2, resumed: 1 });
  }
  // Another server process on the same address: its ticket keys are its own.
  await using _g = await startGost(["-L", `tls://${addr}/127.0.0.1:${echo.port}`]);
  await roundTrip(dialer, addr);
  assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 3, resumed: 1 }, "the stale ticket was refused");
  await roundTrip(dialer, addr);
  assert.deepEqual(dialer.cfg.cache.counts, { handshakes: 4, resumed: 2 }, "the new server's ticket resumes");
});

Deno.test("tls client cache: sessions are kept per server name and address", () => {
  const cache = new TlsClientCache({}, true);
  assert.equal(cache.session("a.example", "127.0.0.1:1"), undefined);
  const off = new TlsClientCache({}, false);
  assert.equal(off.session("a.example", "127.0.0.1:1"), undefined);
  assert.ok(cache.context, "the secure context builds without material (system roots)");
  assert.equal(cache.context, cache.context, "built once");
});
