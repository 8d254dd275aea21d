import assert from "node:assert/strict";
import { adoptSocket } from "./adopt.ts";
import { loadTcpWrap } from "../tcp_wrap.ts";

Deno.test("adopt: a connection accepted by Deno.listen becomes a Node socket on the same TCP handle", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
  const conn = await l.accept();
  try {
    // On this Deno the internals are there: the TLS server takes the native path.
    await loadTcpWrap();
    const sock = adoptSocket(conn);
    assert.ok(sock, "no Node socket: the TLS server would fall back to the stream adapter");
    assert.equal(sock.remotePort, (c.localAddr as Deno.NetAddr).port);
    const got = new Promise<string>((resolve) =>
      sock.once("data", (d: Uint8Array) => resolve(new TextDecoder().decode(d)))
    );
    await c.write(new TextEncoder().encode("ping"));
    assert.equal(await got, "ping");
    await new Promise<void>((resolve) => sock.write("pong", () => resolve()));
    const buf = new Uint8Array(8);
    assert.equal(new TextDecoder().decode(buf.subarray(0, (await c.read(buf))!)), "pong");
    // The Deno connection still owns the socket: closing it closes the connection.
    conn.close();
    assert.equal(await c.read(buf), null);
    sock.destroy();
  } finally {
    c.close();
    l.close();
  }
});
