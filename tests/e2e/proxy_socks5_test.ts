import assert from "node:assert/strict";
import {
  freePort,
  hex,
  randomBytes,
  readExactly,
  sha256,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";
import { chain, startConfig, svc } from "../_runtime.ts";

const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "socks5: tcp and udp forwarding through socks5 nodes, with and without auth",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [s1, s2, lp, up] = [freePort(), freePort(), freePort(), freePort()];
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${s1}`, "socks5", { metadata: { udp: true } }),
        svc(`127.0.0.1:${s2}`, "socks5", {
          auth: { username: "user", password: "pass" },
          metadata: { udp: true },
        }),
        svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${echo.port}`] }),
        svc(`127.0.0.1:${up}`, "udp", { chain: "c", targets: [`127.0.0.1:${uecho.port}`] }),
      ],
      chains: [chain("c", [[`socks5://127.0.0.1:${s1}`], [`socks5://user:pass@127.0.0.1:${s2}`]])],
    });
    try {
      const data = randomBytes(200_000, 5);
      assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
      const r = await udpRoundTrip(up, "hello");
      assert.equal(dec.decode(r!), "echo:hello");
    } finally {
      await run.close();
      echo.close();
      uecho.close();
    }
  },
});

Deno.test({
  name:
    "socks5 handler: answers a gost client's method offer (00 02 80 82) with 02, wrong password gets 01 01",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const sp = freePort();
    const run = await startConfig({
      services: [svc(`127.0.0.1:${sp}`, "socks5", { auth: { username: "user", password: "pass" } })],
    });
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: sp });
      await c.write(hex("0504000280" + "82"));
      assert.deepEqual(await readExactly(c, 2), hex("0502"));
      await c.write(hex("0104757365720470617373")); // user/pass
      assert.deepEqual(await readExactly(c, 2), hex("0100"));
      const port = echo.port.toString(16).padStart(4, "0");
      await c.write(hex("050100017f000001" + port));
      const rep = await readExactly(c, 10);
      assert.equal(rep[1], 0);
      await c.write(new TextEncoder().encode("ping"));
      assert.equal(dec.decode(await readExactly(c, 4)), "ping");
      c.close();

      const bad = await Deno.connect({ hostname: "127.0.0.1", port: sp });
      await bad.write(hex("05020002"));
      assert.deepEqual(await readExactly(bad, 2), hex("0502"));
      await bad.write(hex("010475736572057365637265")); // user / "secre"
      assert.deepEqual(await readExactly(bad, 2), hex("0101"));
      assert.equal(await bad.read(new Uint8Array(1)), null);
      bad.close();
      await new Promise((r) => setTimeout(r, 50));
      assert.doesNotMatch(run.logs.join("\n"), /secre/);

      // no-auth-only offer to a server that needs credentials: 05 FF
      const none = await Deno.connect({ hostname: "127.0.0.1", port: sp });
      await none.write(hex("050100"));
      assert.deepEqual(await readExactly(none, 2), hex("05ff"));
      none.close();
    } finally {
      await run.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "socks5 handler: UDP ASSOCIATE (standard) relays datagrams with SOCKS5 headers",
  ...opts,
  fn: async () => {
    const uecho = udpEchoServer("echo:");
    const sp = freePort();
    const run = await startConfig({
      services: [svc(`127.0.0.1:${sp}`, "socks5", { metadata: { udp: true } })],
    });
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: sp });
      await c.write(hex("050100"));
      assert.deepEqual(await readExactly(c, 2), hex("0500"));
      await c.write(hex("050300010000000000" + "00"));
      const rep = await readExactly(c, 10);
      assert.equal(rep[1], 0);
      const relayPort = (rep[8] << 8) | rep[9];
      const u = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
      const port = uecho.port.toString(16).padStart(4, "0");
      await u.send(hex("000000017f000001" + port + "6869"), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: relayPort,
      });
      const [d] = await u.receive();
      assert.deepEqual(d.subarray(0, 10), hex("000000017f000001" + port));
      assert.equal(dec.decode(d.subarray(10)), "echo:hi");
      u.close();
      c.close();
    } finally {
      await run.close();
      uecho.close();
    }
  },
});

Deno.test({
  name:
    "socks5 handler: UDP without udp=true is refused with 'not allowed'; unknown command and ATYP get replies",
  ...opts,
  fn: async () => {
    const sp = freePort();
    const run = await startConfig({ services: [svc(`127.0.0.1:${sp}`, "socks5")] });
    try {
      for (
        const [req, rep] of [
          ["05f30001000000000000", 0x02],
          ["05030001000000000000", 0x02],
          ["05090001000000000000", 0x07],
          ["05010009000000000000", 0x08],
        ] as const
      ) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: sp });
        await c.write(hex("050100"));
        await readExactly(c, 2);
        await c.write(hex(req));
        const got = await readExactly(c, 2);
        assert.equal(got[1], rep, req);
        c.close();
      }
    } finally {
      await run.close();
    }
  },
});
