import assert from "node:assert/strict";
import { tcpTimer } from "../../tests/_helpers.ts";
import { TcpListener } from "./tcp.ts";

Deno.test({
  name: "tcp listener: keepAlive=true turns on TCP keep-alive for accepted connections (off by default)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    for (const keepAlive of [false, true]) {
      const l = new TcpListener("127.0.0.1:0", { keepAlive });
      await l.listen();
      const port = Number(l.addr.split(":").pop());
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      const s = await l.accept();
      try {
        const timer = await tcpTimer(port, (c.localAddr as Deno.NetAddr).port);
        assert.equal(timer, keepAlive ? "02" : "00", `keepAlive=${keepAlive}`);
      } finally {
        c.close();
        s?.close();
        l.close();
      }
    }
  },
});
