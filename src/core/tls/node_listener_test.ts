import assert from "node:assert/strict";
import { NodeTcpListener } from "./node_listener.ts";

Deno.test("node listener: an empty host takes IPv4 and IPv6 clients, with their addresses", async () => {
  const l = await NodeTcpListener.listen(":0");
  try {
    for (const hostname of ["127.0.0.1", "::1"]) {
      const c = await Deno.connect({ hostname, port: l.addr.port });
      const a = await l.accept();
      assert.equal(a.remoteAddr.hostname, hostname);
      assert.equal(a.remoteAddr.port, (c.localAddr as Deno.NetAddr).port);
      assert.equal(a.localAddr.port, l.addr.port);
      a.close();
      // Closing really closes: the client reads the end of stream.
      assert.equal(await c.read(new Uint8Array(1)), null);
      c.close();
    }
  } finally {
    l.close();
  }
});

Deno.test("node listener: a port in use is a ListenError naming the address; reusePort shares one", async () => {
  const l = await NodeTcpListener.listen("127.0.0.1:0", true);
  const addr = `127.0.0.1:${l.addr.port}`;
  try {
    await assert.rejects(NodeTcpListener.listen(addr), (err: Error) => {
      assert.equal(err.name, "ListenError");
      assert.match(err.message, new RegExp(`cannot listen on ${addr}: .*EADDRINUSE`));
      return true;
    });
    const second = await NodeTcpListener.listen(addr, true);
    assert.equal(second.addr.port, l.addr.port);
    second.close();
  } finally {
    l.close();
  }
});

Deno.test("node listener: close ends a waiting accept with BadResource", async () => {
  const l = await NodeTcpListener.listen("127.0.0.1:0");
  const waiting = l.accept();
  l.close();
  await assert.rejects(waiting, Deno.errors.BadResource);
});
