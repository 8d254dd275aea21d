import assert from "node:assert/strict";
import {
  freePorts,
  randomBytes,
  sha256,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";
import { chain, startConfig, svc } from "../_runtime.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "relay: tcp forward through a relay node with auth (nodelay false and true)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    for (const nodelay of ["false", "true"]) {
      const [rp, lp] = freePorts(2);
      const run = await startConfig({
        services: [
          svc(`127.0.0.1:${rp}`, "relay", {
            auth: { username: "user", password: "pass" },
            metadata: { nodelay },
          }),
          svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${echo.port}`] }),
        ],
        chains: [chain("c", [[`relay://user:pass@127.0.0.1:${rp}?nodelay=${nodelay}`]])],
      });
      try {
        const data = randomBytes(300_000, 7);
        const back = await tcpRoundTrip(lp, data);
        assert.equal(await sha256(back), await sha256(data));
      } finally {
        await run.close();
      }
    }
    echo.close();
  },
});

Deno.test({
  name: "relay: server-speaks-first target works with nodelay=true on both sides",
  ...opts,
  fn: async () => {
    const banner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const bport = (banner.addr as Deno.NetAddr).port;
    (async () => {
      for await (const c of banner) {
        await c.write(enc.encode("220 banner\r\n"));
        c.close();
      }
    })().catch(() => {});
    const [rp, lp] = freePorts(2);
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${rp}`, "relay", { metadata: { nodelay: true } }),
        svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${bport}`] }),
      ],
      chains: [chain("c", [[`relay://127.0.0.1:${rp}?nodelay=true`]])],
    });
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: lp });
      const buf = new Uint8Array(100);
      const n = await conn.read(buf);
      assert.equal(dec.decode(buf.subarray(0, n!)), "220 banner\r\n");
      conn.close();
    } finally {
      await run.close();
      banner.close();
    }
  },
});

Deno.test({
  name: "relay: wrong credentials are refused with Unauthorized and logged without the password",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [rp, lp] = freePorts(2);
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${rp}`, "relay", { auth: { username: "user", password: "pass" } }),
        svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${echo.port}`] }),
      ],
      chains: [chain("c", [[`relay://user:s3cret-wrong@127.0.0.1:${rp}`]])],
    });
    try {
      const back = await tcpRoundTrip(lp, enc.encode("hello"));
      assert.equal(back.length, 0);
      await new Promise((r) => setTimeout(r, 100));
      const all = run.logs.join("\n");
      assert.match(all, /Unauthorized|unauthorized/);
      assert.doesNotMatch(all, /s3cret-wrong/);
      // Raw request: the server answers 01 02 00 00.
      const c = await Deno.connect({ hostname: "127.0.0.1", port: rp });
      await c.write(
        Uint8Array.from([1, 1, 0, 10, 2, 0, 7, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 255]),
      );
      const buf = new Uint8Array(16);
      const n = await c.read(buf);
      assert.deepEqual(Array.from(buf.subarray(0, n!)), [1, 2, 0, 0]);
      c.close();
    } finally {
      await run.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "relay: UDP through a relay node, and relay forward mode for TCP and UDP",
  ...opts,
  fn: async () => {
    const uecho = udpEchoServer("echo:");
    const techo = tcpEchoServer();
    const [rp, fp, ftp, up, up2, tp2] = freePorts(6);
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${rp}`, "relay"),
        // forward mode: the relay server's own target decides (gost -L relay://:8420/:53)
        svc(`127.0.0.1:${fp}`, "relay", { targets: [`127.0.0.1:${uecho.port}`] }),
        svc(`127.0.0.1:${ftp}`, "relay", { targets: [`127.0.0.1:${techo.port}`] }),
        svc(`127.0.0.1:${up}`, "udp", { chain: "c", targets: [`127.0.0.1:${uecho.port}`] }),
        svc(`127.0.0.1:${up2}`, "udp", { chain: "f" }),
        svc(`127.0.0.1:${tp2}`, "tcp", { chain: "t" }),
      ],
      chains: [
        chain("c", [[`relay://127.0.0.1:${rp}`]]),
        chain("f", [[`relay://127.0.0.1:${fp}`]]),
        chain("t", [[`relay://127.0.0.1:${ftp}`]]),
      ],
    });
    try {
      const r1 = await udpRoundTrip(up, "hello");
      assert.equal(dec.decode(r1!), "echo:hello");
      const r2 = await udpRoundTrip(up2, "second");
      assert.equal(dec.decode(r2!), "echo:second");
      const data = randomBytes(100_000, 3);
      assert.equal(await sha256(await tcpRoundTrip(tp2, data)), await sha256(data));
    } finally {
      await run.close();
      uecho.close();
      techo.close();
    }
  },
});

Deno.test({
  name: "chain under load: 200 concurrent connections through http -> socks5 -> relay, every byte intact",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [h, s, r, lp] = freePorts(4);
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${h}`, "http"),
        svc(`127.0.0.1:${s}`, "socks5"),
        svc(`127.0.0.1:${r}`, "relay"),
        svc(`127.0.0.1:${lp}`, "tcp", { chain: "c", targets: [`127.0.0.1:${echo.port}`] }),
      ],
      chains: [
        chain("c", [[`http://127.0.0.1:${h}`], [`socks5://127.0.0.1:${s}`], [`relay://127.0.0.1:${r}`]]),
      ],
    });
    try {
      const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        const data = randomBytes(20_000 + i * 97, i + 1);
        return (await sha256(await tcpRoundTrip(lp, data))) === (await sha256(data));
      }));
      assert.equal(results.filter((ok) => !ok).length, 0);
    } finally {
      await run.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "UDP under load: 20 clients x 50 datagrams each through relay and socks5 (keepAlive), all answered",
  ...opts,
  fn: async () => {
    const uecho = udpEchoServer("echo:");
    const [r, s, u1, u2] = freePorts(4);
    const keep = { keepAlive: true, ttl: "2s" };
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${r}`, "relay"),
        svc(`127.0.0.1:${s}`, "socks5", { metadata: { udp: true } }),
        svc(`127.0.0.1:${u1}`, "udp", { chain: "r", targets: [`127.0.0.1:${uecho.port}`], metadata: keep }),
        svc(`127.0.0.1:${u2}`, "udp", { chain: "s", targets: [`127.0.0.1:${uecho.port}`], metadata: keep }),
      ],
      chains: [chain("r", [[`relay://127.0.0.1:${r}`]]), chain("s", [[`socks5://127.0.0.1:${s}`]])],
    });
    try {
      for (const port of [u1, u2]) {
        const answered = await Promise.all(Array.from({ length: 20 }, async (_, c) => {
          const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
          let ok = 0;
          try {
            for (let i = 0; i < 50; i++) {
              const got = await udpRoundTrip(port, `c${c}-${i}`, 2000, sock);
              if (got && dec.decode(got) === `echo:c${c}-${i}`) ok++;
            }
          } finally {
            sock.close();
          }
          return ok;
        }));
        assert.deepEqual(answered, new Array(20).fill(50));
      }
    } finally {
      await run.close();
      uecho.close();
    }
  },
});
