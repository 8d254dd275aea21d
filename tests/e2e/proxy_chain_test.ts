/**
 * Chains through the real CLI: multi-hop mixes of http, socks4, socks5 and relay nodes, a hop
 * with a dead node (failover), TCP and UDP port forwarding as the seed documents show, and
 * UDP refused clearly when the last node cannot carry it.
 */
import assert from "node:assert/strict";
import {
  freePort,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
  waitUntil,
} from "../_helpers.ts";

const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "chain: tcp and udp forwarding through http -> socks4 -> socks5 -> relay (with auth)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [h, s4, s5, r, lp, up] = [freePort(), freePort(), freePort(), freePort(), freePort(), freePort()];
    const servers = await startGost([
      "-L",
      `http://u1:p1@127.0.0.1:${h}`,
      "-L",
      `socks4://127.0.0.1:${s4}`,
      "-L",
      `socks5://u3:p3@127.0.0.1:${s5}`,
      "-L",
      `relay://u4:p4@127.0.0.1:${r}`,
    ], 4);
    const client = await startGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-L",
      `udp://127.0.0.1:${up}/127.0.0.1:${uecho.port}`,
      "-F",
      `http://u1:p1@127.0.0.1:${h}`,
      "-F",
      `socks4://127.0.0.1:${s4}`,
      "-F",
      `socks5://u3:p3@127.0.0.1:${s5}`,
      "-F",
      `relay://u4:p4@127.0.0.1:${r}`,
    ], 2);
    try {
      const data = randomBytes(1_000_000, 11);
      assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
      assert.equal(dec.decode((await udpRoundTrip(up, "hello"))!), "echo:hello");
    } finally {
      await client.stop();
      await servers.stop();
      echo.close();
      uecho.close();
    }
  },
});

Deno.test({
  name: "chain: a hop with a dead node fails over to the live one, every connection succeeds",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [dead, alive, lp] = [freePort(), freePort(), freePort()];
    const server = await startGost(["-L", `socks5://127.0.0.1:${alive}`]);
    const client = await startGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-F",
      `socks5://127.0.0.1:${dead},127.0.0.1:${alive}`,
    ]);
    try {
      for (let i = 0; i < 6; i++) {
        const back = await tcpRoundTrip(lp, new TextEncoder().encode(`ping ${i}`));
        assert.equal(dec.decode(back), `ping ${i}`);
      }
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "chain: UDP through a node that cannot carry it fails with a clear message (socks4, plain socks5)",
  ...opts,
  fn: async () => {
    const uecho = udpEchoServer("echo:");
    const [s4, s5, up1, up2] = [freePort(), freePort(), freePort(), freePort()];
    const server = await startGost(["-L", `socks4://127.0.0.1:${s4}`, "-L", `socks5://127.0.0.1:${s5}`], 2);
    const c1 = await startGost([
      "-L",
      `udp://127.0.0.1:${up1}/127.0.0.1:${uecho.port}`,
      "-F",
      `socks4://127.0.0.1:${s4}`,
    ]);
    const c2 = await startGost([
      "-L",
      `udp://127.0.0.1:${up2}/127.0.0.1:${uecho.port}`,
      "-F",
      `socks5://127.0.0.1:${s5}`,
    ]);
    try {
      assert.equal(await udpRoundTrip(up1, "x", 500), null);
      await c1.waitFor("cannot carry UDP", 3000);
      assert.equal(await udpRoundTrip(up2, "x", 500), null);
      await c2.waitFor(/not allowed/, 3000);
    } finally {
      await c1.stop();
      await c2.stop();
      await server.stop();
      uecho.close();
    }
  },
});

Deno.test({
  name:
    "seed (relay-protocol): relay port forwarding -L relay://:P/:53 with -L udp://:Q -L tcp://:R -F relay://:P",
  ...opts,
  fn: async () => {
    const uecho = udpEchoServer("echo:");
    const [rp, up, tp] = [freePort(), freePort(), freePort()];
    const server = await startGost(["-L", `relay://127.0.0.1:${rp}/127.0.0.1:${uecho.port}`]);
    const client = await startGost(
      ["-L", `udp://127.0.0.1:${up}`, "-L", `tcp://127.0.0.1:${tp}`, "-F", `relay://127.0.0.1:${rp}`],
      2,
    );
    try {
      assert.equal(dec.decode((await udpRoundTrip(up, "dns?"))!), "echo:dns?");
    } finally {
      await client.stop();
      await server.stop();
      uecho.close();
    }
  },
});

Deno.test({
  name:
    "seed (port-forwarding): server-side forwarding -L tcp://:P -F forward://:Q with -L tcp://:Q/target; UDP over it refused",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [q, lp, up] = [freePort(), freePort(), freePort()];
    const server = await startGost(["-L", `tcp://127.0.0.1:${q}/127.0.0.1:${echo.port}`]);
    const client = await startGost(
      [
        "-L",
        `tcp://127.0.0.1:${lp}`,
        "-L",
        `udp://127.0.0.1:${up}/127.0.0.1:${uecho.port}`,
        "-F",
        `forward://127.0.0.1:${q}`,
      ],
      2,
    );
    try {
      const data = randomBytes(500_000, 4);
      assert.equal(await sha256(await tcpRoundTrip(lp, data)), await sha256(data));
      assert.equal(await udpRoundTrip(up, "x", 500), null);
      await client.waitFor("cannot carry UDP", 3000);
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
      uecho.close();
    }
  },
});

Deno.test({
  name: "auth from ?auth=base64 on a service and on a node (relay and http)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [rp, hp, lp1, lp2] = [freePort(), freePort(), freePort(), freePort()];
    const b64 = btoa("user:pass");
    const server = await startGost([
      "-L",
      `relay://127.0.0.1:${rp}?auth=${b64}`,
      "-L",
      `http://127.0.0.1:${hp}?auth=${b64}`,
    ], 2);
    const good = await startGost([
      "-L",
      `tcp://127.0.0.1:${lp1}/127.0.0.1:${echo.port}`,
      "-F",
      `relay://127.0.0.1:${rp}?auth=${b64}`,
    ]);
    const bad = await startGost([
      "-L",
      `tcp://127.0.0.1:${lp2}/127.0.0.1:${echo.port}`,
      "-F",
      `http://127.0.0.1:${hp}?auth=${btoa("user:wrong")}`,
    ]);
    try {
      assert.equal(dec.decode(await tcpRoundTrip(lp1, new TextEncoder().encode("ok"))), "ok");
      assert.equal((await tcpRoundTrip(lp2, new TextEncoder().encode("no"))).length, 0);
      await bad.waitFor("407 Proxy Authentication Required", 3000);
      assert.doesNotMatch(server.stderr() + bad.stderr(), /wrong/);
    } finally {
      await good.stop();
      await bad.stop();
      await server.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "chain: a backup node (metadata backup=true) carries nothing while another node of its hop is up",
  ...opts,
  fn: async () => {
    const [a, b, lp] = [freePort(), freePort(), freePort()];
    await using backups = await startGost(
      ["-L", `socks5://127.0.0.1:${a}`, "-L", `socks5://127.0.0.1:${b}`],
      2,
    );
    using echo = tcpEchoServer();
    const path = await Deno.makeTempFile({ suffix: ".yaml" });
    await Deno.writeTextFile(
      path,
      `services:
  - name: front
    addr: 127.0.0.1:${lp}
    handler: { type: tcp, chain: c }
    listener: { type: tcp }
    forwarder: { nodes: [{ name: t, addr: "127.0.0.1:${echo.port}" }] }
chains:
  - name: c
    hops:
      - name: h
        nodes:
          - { name: a, addr: "127.0.0.1:${a}", connector: { type: socks5 }, metadata: { backup: true } }
          - { name: b, addr: "127.0.0.1:${b}", connector: { type: socks5 } }
`,
    );
    try {
      await using _client = await startGost(["-C", path]);
      for (let i = 0; i < 4; i++) {
        assert.equal(dec.decode(await tcpRoundTrip(lp, new TextEncoder().encode(`ping ${i}`))), `ping ${i}`);
      }
      // One log line per connection, with the service that carried it (round robin would alternate).
      const carried = (svc: string) =>
        backups.stderr().split("\n").filter((l) =>
          l.includes(`"service":"${svc}"`) && l.includes('"outputBytes"')
        ).length;
      await waitUntil(() => carried("service-1") === 4, () => backups.stderr());
      assert.equal(carried("service-0"), 0, "the backup node carried a connection");
    } finally {
      await Deno.remove(path);
    }
  },
});
