import assert from "node:assert/strict";
import { splitHostPort } from "../core/addr.ts";
import { rootLogger } from "../core/log.ts";
import { tcpTimer } from "../../tests/_helpers.ts";
import type { DialerInit } from "./registry.ts";
import { tlsDialer } from "./tls.ts";

Deno.test({
  name: "tls dialer: keepAlive=true turns on TCP keep-alive on the socket to the node (off by default)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    for (const keepAlive of [false, true]) {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      const init: DialerInit = {
        path: "node",
        nodeAddr: `127.0.0.1:${port}`,
        metadata: { keepAlive },
        log: rootLogger,
      };
      const dialer = tlsDialer.create(init, tlsDialer.options.parse(init.metadata, "node"));
      const conn = await dialer.dial(init.nodeAddr, { log: rootLogger });
      const s = await l.accept();
      try {
        const timer = await tcpTimer(splitHostPort(conn.local).port, port);
        assert.equal(timer, keepAlive ? "02" : "00", `keepAlive=${keepAlive}`);
      } finally {
        conn.close();
        s.close();
        l.close();
      }
    }
  },
});
