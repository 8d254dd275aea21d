import assert from "node:assert/strict";
import { duplexPair } from "../pipe.ts";
import { writeTo } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import { tlsConnect } from "./client.ts";
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
  const l = server.listen("127.0.0.1:0");
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
  const l = server.listen("127.0.0.1:0");
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
  const l = server.listen("127.0.0.1:0");
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
