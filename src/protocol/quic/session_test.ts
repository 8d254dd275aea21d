/** QUIC sessions over Deno's QUIC in one process: streams both ways, half-close, the end of a connection. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { selfSignedCert } from "../../core/tls/selfsigned.ts";
import { QUIC_ALPN, QuicClientSession, QuicServerSession } from "./session.ts";

Deno.test("quic session: a stream per connection, half-close kept, a closed connection ends the server's", async () => {
  const pair = await selfSignedCert();
  const ep = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = ep.listen({ alpnProtocols: QUIC_ALPN, cert: pair.cert, key: pair.key });
  const accepted = listener.accept();
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port: ep.addr.port,
    alpnProtocols: QUIC_ALPN,
    caCerts: [pair.cert],
  });
  const client = new QuicClientSession(conn, "local");
  const server = new QuicServerSession(await accepted, "127.0.0.1:1");
  try {
    equal(conn.protocol, "h3");
    for (let i = 0; i < 3; i++) {
      const a = await client.openStream();
      const w = a.direct!;
      await w.write(new TextEncoder().encode(`ping ${i}`));
      await w.closeWrite();
      const b = (await server.accept())!;
      const buf = new Uint8Array(64);
      let got = "";
      for (let n; (n = await b.direct!.read(buf)) !== null;) {
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
      equal(got, `ping ${i}`);
      // The server still writes after the client's half-close.
      await b.direct!.write(new TextEncoder().encode("pong"));
      b.close();
      const n = await w.read(buf);
      deepStrictEqual(new TextDecoder().decode(buf.subarray(0, n!)), "pong");
      equal(await w.read(buf), null);
      a.close();
    }
    client.close();
    await server.done;
    equal(server.closed, true);
    equal(await server.accept(), null);
  } finally {
    client.close();
    server.close();
    ep.close();
  }
});
