import assert from "node:assert/strict";
import * as tls from "node:tls";
import { canFindSockets } from "../socket_fds.ts";
import { IN_CI } from "../../../tests/_helpers.ts";
import { TlsAcceptor } from "./server.ts";
import { selfSignedCert } from "./selfsigned.ts";

function test(
  name: string,
  fn: (server: TlsAcceptor, l: ReturnType<TlsAcceptor["listen"]>) => Promise<void>,
) {
  const can = canFindSockets();
  if (!can && !IN_CI) console.warn(`SKIP ${name}: Deno's TLS listener needs Linux and libc through FFI`);
  Deno.test({
    name,
    ignore: !can && !IN_CI,
    fn: async () => {
      const server = await TlsAcceptor.create({ pair: await selfSignedCert() }, ["h2", "http/1.1"]);
      const l = server.listen("127.0.0.1:0");
      try {
        assert.ok(server.native, "served by Deno's TLS");
        await fn(server, l);
      } finally {
        try {
          l.close();
        } catch {
          // the test closed it
        }
      }
    },
  });
}

const portOf = (l: { addr: Deno.Addr }) => (l.addr as Deno.NetAddr).port;

/** Resolves with the ms until `c` reads its end of stream (or a reset); Infinity after 3 s. */
async function msUntilClosed(c: Deno.Conn): Promise<number> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<number>((r) => timer = setTimeout(() => r(Infinity), 3000));
  const ended = (async () => {
    try {
      while (await c.read(new Uint8Array(64)) !== null) { /* an alert, then the end */ }
    } catch {
      // reset, or closed by the test: closed as well
    }
    return performance.now() - t0;
  })();
  const ms = await Promise.race([ended, gaveUp]);
  clearTimeout(timer);
  return ms;
}

test(
  "native tls: closing a connection whose handshake has not ended ends its socket (silent, partial)",
  async (server, l) => {
    for (const sent of [new Uint8Array(0), new Uint8Array([22, 3, 1, 0, 200, 1, 0])]) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: portOf(l) });
      const conn = await l.accept();
      if (sent.length) {
        // secured, then given up on (the handshake deadline)
        const handshake = server.secure(conn);
        await c.write(sent);
        await new Promise((r) => setTimeout(r, 50));
        conn.close();
        await assert.rejects(handshake, /closed during the TLS handshake/);
      } else {
        conn.close(); // never secured (an admission refusal, an eviction)
      }
      const ms = await msUntilClosed(c);
      assert.ok(ms < 1000, `the client saw its socket end after ${ms} ms`);
      c.close();
    }
  },
);

test(
  "native tls: a full handshake, bytes both ways, half-close, and ALPN from the client's offer",
  async (server, l) => {
    const serving = (async () => {
      const d = await server.secure(await l.accept());
      const buf = new Uint8Array(64);
      const n = await d.direct!.read(buf);
      await d.direct!.write(buf.subarray(0, n!));
      assert.equal(await d.direct!.read(buf), null, "the client's half-close arrives as the end");
      await d.direct!.write(new TextEncoder().encode("bye"));
      d.close();
    })();
    const s = tls.connect({
      host: "127.0.0.1",
      port: portOf(l),
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    await new Promise((r, j) => s.once("secureConnect", r).once("error", j));
    assert.equal(s.alpnProtocol, "h2");
    s.write("ping");
    const chunks: Uint8Array[] = [];
    s.on("data", (d: Uint8Array) => chunks.push(d));
    await new Promise((r) => s.once("data", r));
    s.end();
    await new Promise((r) => s.once("end", r));
    s.destroy();
    await serving;
    assert.equal(new TextDecoder().decode(Buffer.concat(chunks)), "pingbye");
  },
);

test(
  "native tls: a small reply is not held for the peer's delayed ACK (TCP_NODELAY from the listener)",
  async (server, l) => {
    const serving = (async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await l.accept();
        } catch {
          return; // the listener closed
        }
        server.secure(conn).then(async (d) => {
          const buf = new Uint8Array(16);
          const n = await d.direct!.read(buf);
          if (n) await d.direct!.write(buf.subarray(0, n));
          await d.direct!.read(buf);
          d.close();
        }).catch(() => {});
      }
    })();
    // Each connection: the handshake, one byte each way. With Nagle's algorithm on, the reply
    // waits behind the server's session tickets for the client's delayed ACK (40 ms on Linux).
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect(
          { host: "127.0.0.1", port: portOf(l), rejectUnauthorized: false },
          () => s.write("x"),
        );
        s.once("data", () => {
          s.destroy();
          resolve();
        });
        s.once("error", reject);
      });
      times.push(performance.now() - t0);
    }
    l.close();
    await serving;
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    assert.ok(
      median < 30,
      `median ${median.toFixed(1)} ms per connection (${times.map((t) => t.toFixed(0))})`,
    );
  },
);

Deno.test({
  name: "native tls: on all interfaces, IPv4 (mapped) and IPv6 clients closed mid-handshake are ended too",
  ignore: !canFindSockets() && !IN_CI,
  fn: async () => {
    const server = await TlsAcceptor.create({ pair: await selfSignedCert() });
    const l = server.listen(":0");
    try {
      assert.ok(server.native, "served by Deno's TLS");
      const hosts = (l.addr as Deno.NetAddr).hostname === "::" ? ["127.0.0.1", "::1"] : ["127.0.0.1"];
      for (const hostname of hosts) {
        const c = await Deno.connect({ hostname, port: portOf(l) });
        (await l.accept()).close();
        const ms = await msUntilClosed(c);
        assert.ok(ms < 1000, `${hostname}: the client saw its socket end after ${ms} ms`);
        c.close();
      }
    } finally {
      l.close();
    }
  },
});
