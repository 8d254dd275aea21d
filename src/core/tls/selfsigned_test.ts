import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { selfSignedCert } from "./selfsigned.ts";

Deno.test("selfsigned: a non-CA leaf with subjectAltName, self-verifying, made well under a second", async () => {
  const t0 = performance.now();
  const pair = await selfSignedCert({ hosts: ["gost.run", "localhost", "127.0.0.1", "::1"] });
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `took ${ms} ms`);
  const x = new X509Certificate(pair.cert);
  assert.equal(x.ca, false);
  assert.match(x.subject, /CN=gost\.run/);
  assert.match(x.subjectAltName ?? "", /DNS:localhost/);
  assert.match(x.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  assert.equal(x.checkHost("localhost"), "localhost");
  assert.equal(x.checkIP("127.0.0.1"), "127.0.0.1");
  assert.ok(x.verify(x.publicKey), "signature verifies with its own key");
  assert.ok(new Date(x.validTo).getTime() - Date.now() > 364 * 24 * 3600_000);
  assert.match(pair.key, /^-----BEGIN PRIVATE KEY-----\n/);
  // Each call makes a new key and serial.
  const other = await selfSignedCert();
  assert.notEqual(new X509Certificate(other.cert).serialNumber, x.serialNumber);
});

Deno.test("selfsigned: Deno's native TLS accepts it as a pinned root (rustls refuses CA-as-leaf)", async () => {
  const pair = await selfSignedCert();
  const l = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key });
  const served = (async () => {
    const c = await l.accept();
    await c.write(new TextEncoder().encode("ok"));
    c.close();
  })();
  const c = await Deno.connectTls({
    hostname: "localhost",
    port: (l.addr as Deno.NetAddr).port,
    caCerts: [pair.cert],
  });
  const buf = new Uint8Array(2);
  assert.equal(await c.read(buf), 2);
  c.close();
  await served;
  l.close();
});
