/**
 * Remote port forwarding end to end, with real gost-deno processes: rtcp/rudp without a
 * chain, and through relay, SOCKS5 and sshd BIND servers that are killed and restarted
 * (the client re-binds by itself; while the server is down the port refuses, never hangs;
 * a stalled connection does not hold up the others). With GOST_BIN set, the real gost
 * plays the BIND server for our rtcp/rudp and the rtcp client of our BIND handlers.
 * @module
 */
import assert from "node:assert/strict";
import {
  freePort,
  freeUdpPort,
  randomBytes,
  runGost,
  sha256,
  spawnGost,
  spawnProcess,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
  waitUntil,
} from "../_helpers.ts";

const GOST_BIN = Deno.env.get("GOST_BIN");
const encoder = new TextEncoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** True when a TCP round trip through `port` echoes `data`. */
async function echoes(port: number, data = encoder.encode("ping")): Promise<boolean> {
  try {
    const got = await tcpRoundTrip(port, data);
    return (await sha256(got)) === (await sha256(data));
  } catch {
    return false;
  }
}

/** How a connection attempt to `port` ends within `ms`: refused, closed, answered, or hung. */
async function probe(port: number, ms = 3000): Promise<"refused" | "closed" | "answered" | "hung"> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return "refused";
  }
  try {
    await conn.write(encoder.encode("x")).catch(() => {});
    const buf = new Uint8Array(16);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      conn.read(buf).then(
        (n): "closed" | "answered" => (n === null ? "closed" : "answered"),
        (): "closed" => "closed",
      ),
      new Promise<"hung">((res) => timer = setTimeout(() => res("hung"), ms)),
    ]);
    clearTimeout(timer);
    return r;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test({ name: "rtcp and rudp without a chain forward like tcp and udp", ...opts }, async () => {
  const echo = tcpEchoServer();
  const uecho = udpEchoServer("re:");
  const p1 = freePort(), p2 = freeUdpPort();
  const g = await startGost([
    "-L",
    `rtcp://127.0.0.1:${p1}/127.0.0.1:${echo.port}`,
    "-L",
    `rudp://127.0.0.1:${p2}/127.0.0.1:${uecho.port}?ttl=2s`,
  ], 2);
  try {
    const data = randomBytes(1 << 20, 2);
    assert.equal(await sha256(await tcpRoundTrip(p1, data)), await sha256(data));
    // One peer keeps its session across datagrams (remote forwarding sessions live until ttl).
    const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    const a = await udpRoundTrip(p2, "one", 3000, sock);
    const b = await udpRoundTrip(p2, "two", 3000, sock);
    sock.close();
    assert.equal(new TextDecoder().decode(a!), "re:one");
    assert.equal(new TextDecoder().decode(b!), "re:two");
  } finally {
    await g.stop();
    echo.close();
    uecho.close();
  }
});

Deno.test({ name: "rtcp without a chain: a port in use stops start-up (exit 3)", ...opts }, async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const r = await runGost(["-L", `rtcp://127.0.0.1:${port}/127.0.0.1:9`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`${port}`));
  } finally {
    taken.close();
  }
});

/** A BIND server kind: how to start it on `port` and the -F URL that reaches it. */
interface BindServer {
  name: string;
  serve(port: number): string[];
  node(port: number): string;
  udp: boolean;
}

const servers: BindServer[] = [
  {
    name: "relay",
    serve: (p) => ["-L", `relay://127.0.0.1:${p}?bind=true`],
    node: (p) => `relay://127.0.0.1:${p}`,
    udp: true,
  },
  {
    name: "socks5",
    serve: (p) => ["-L", `socks5://127.0.0.1:${p}?bind=true`],
    node: (p) => `socks5://127.0.0.1:${p}`,
    udp: true,
  },
  {
    name: "sshd",
    serve: (p) => ["-L", `sshd://u:pw@127.0.0.1:${p}`],
    node: (p) => `sshd://u:pw@127.0.0.1:${p}`,
    udp: false,
  },
];

for (const srv of servers) {
  Deno.test({
    name: `rtcp through ${srv.name}: forwards, a stalled connection blocks nobody, re-binds after a restart`,
    ...opts,
  }, async () => {
    const echo = tcpEchoServer();
    const sport = freePort(), rport = freePort();
    let server = await startGost(srv.serve(sport));
    const client = await startGost([
      "-L",
      `rtcp://127.0.0.1:${rport}/127.0.0.1:${echo.port}`,
      "-F",
      srv.node(sport),
    ]);
    const stalled: Deno.TcpConn[] = [];
    try {
      await waitUntil(() => echoes(rport), "first bind");
      const data = randomBytes(1 << 20, 9);
      assert.equal(await sha256(await tcpRoundTrip(rport, data)), await sha256(data));

      // A client that sends a lot and never reads: its stream backs up, the others flow.
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: rport });
      stalled.push(slow);
      const junk = randomBytes(4 << 20, 1);
      slow.write(junk).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) => tcpRoundTrip(rport, randomBytes(64 * 1024, i + 100))),
      );
      for (let i = 0; i < 20; i++) assert.equal(many[i].length, 64 * 1024, `connection ${i}`);
      assert.ok(Date.now() - t0 < 10_000, `20 connections took ${Date.now() - t0} ms`);

      // The server goes away: the port refuses (or closes at once), it does not hang.
      server.child.kill("SIGKILL");
      await server.status();
      await waitUntil(async () => (await probe(rport, 2000)) !== "answered", "port to stop answering");
      const state = await probe(rport, 3000);
      assert.notEqual(state, "hung", "a connection while the tunnel is down must not hang");
      await waitUntil(() => /bind .*(lost|failed)/.test(client.stderr()), "client logs the lost bind");

      // It comes back: the client re-binds by itself and forwarding works again.
      server = await startGost(srv.serve(sport));
      await waitUntil(() => /re-established/.test(client.stderr()), "client re-binds", 20_000);
      await waitUntil(() => echoes(rport), "forwarding after re-bind");
      assert.equal(await sha256(await tcpRoundTrip(rport, data)), await sha256(data));
    } finally {
      for (const c of stalled) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await client.stop();
      await server.stop();
      echo.close();
    }
  });

  if (srv.udp) {
    Deno.test(
      { name: `rudp through ${srv.name}: datagrams both ways, per-peer sessions`, ...opts },
      async () => {
        const uecho = udpEchoServer("u:");
        const sport = freePort(), rport = freeUdpPort();
        const server = await startGost(srv.serve(sport));
        const client = await startGost([
          "-L",
          `rudp://127.0.0.1:${rport}/127.0.0.1:${uecho.port}?ttl=3s`,
          "-F",
          srv.node(sport),
        ]);
        try {
          let got: Uint8Array | null = null;
          await waitUntil(
            async () => (got = await udpRoundTrip(rport, "hello", 500)) !== null,
            "rudp answer",
          );
          assert.equal(new TextDecoder().decode(got!), "u:hello");
          const a = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
          const b = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
          const [ra, rb] = await Promise.all([
            udpRoundTrip(rport, "from a", 3000, a),
            udpRoundTrip(rport, "from b", 3000, b),
          ]);
          a.close();
          b.close();
          assert.equal(new TextDecoder().decode(ra!), "u:from a");
          assert.equal(new TextDecoder().decode(rb!), "u:from b");
        } finally {
          await client.stop();
          await server.stop();
          uecho.close();
        }
      },
    );
  }
}

Deno.test(
  { name: "rudp through sshd fails with a clear message (SSH forwards TCP only)", ...opts },
  async () => {
    const sport = freePort(), rport = freeUdpPort();
    const server = await startGost(["-L", `sshd://u:pw@127.0.0.1:${sport}`]);
    const client = await startGost([
      "-L",
      `rudp://127.0.0.1:${rport}/127.0.0.1:9`,
      "-F",
      `sshd://u:pw@127.0.0.1:${sport}`,
    ]);
    try {
      await client.waitFor(/cannot carry UDP/);
    } finally {
      await client.stop();
      await server.stop();
    }
  },
);

for (const srv of servers.filter((s) => s.name !== "sshd")) {
  Deno.test(
    { name: `${srv.name} BIND refused when bind is off, and for a port in use`, ...opts },
    async () => {
      const sport = freePort(), sport2 = freePort(), rport = freePort();
      const off = await startGost(["-L", srv.serve(sport)[1].replace("?bind=true", "")]);
      const on = await startGost(srv.serve(sport2));
      const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const takenPort = (taken.addr as Deno.NetAddr).port;
      const c1 = spawnGost(["-L", `rtcp://127.0.0.1:${rport}/127.0.0.1:9`, "-F", srv.node(sport)]);
      const c2 = spawnGost(["-L", `rtcp://127.0.0.1:${takenPort}/127.0.0.1:9`, "-F", srv.node(sport2)]);
      try {
        await c1.waitFor(/bind on .* failed/);
        await c2.waitFor(/bind on .* failed/);
        // Both servers keep serving: a good bind still works on the second one.
        const echo = tcpEchoServer();
        const r2 = freePort();
        const c3 = await startGost([
          "-L",
          `rtcp://127.0.0.1:${r2}/127.0.0.1:${echo.port}`,
          "-F",
          srv.node(sport2),
        ]);
        await waitUntil(() => echoes(r2), "a good bind on the same server");
        await c3.stop();
        echo.close();
      } finally {
        taken.close();
        await c1.stop();
        await c2.stop();
        await off.stop();
        await on.stop();
      }
    },
  );
}

Deno.test({ name: "sshd: a tcpip-forward to a port in use is refused and logged", ...opts }, async () => {
  const sport = freePort();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const takenPort = (taken.addr as Deno.NetAddr).port;
  const server = await startGost(["-L", `sshd://u:pw@127.0.0.1:${sport}`]);
  const client = spawnGost([
    "-L",
    `rtcp://127.0.0.1:${takenPort}/127.0.0.1:9`,
    "-F",
    `sshd://u:pw@127.0.0.1:${sport}`,
  ]);
  try {
    await client.waitFor(/refused to listen/);
    await server.waitFor(/tcpip-forward .* refused/);
  } finally {
    taken.close();
    await client.stop();
    await server.stop();
  }
});

// ---- real gost (GOST_BIN) on the other side ----

if (!GOST_BIN) {
  console.warn("SKIP rtcp/rudp against real gost: set GOST_BIN to a gost 3.x binary to run them");
}

for (const kind of ["relay", "socks5"]) {
  Deno.test({
    name: `real gost ${kind}?bind=true serves our rtcp and rudp`,
    ignore: !GOST_BIN,
    ...opts,
  }, async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("g:");
    const sport = freePort(), rport = freePort(), uport = freeUdpPort();
    const server = spawnProcess(GOST_BIN!, ["-L", `${kind}://127.0.0.1:${sport}?bind=true`]);
    await new Promise((r) => setTimeout(r, 500));
    const client = await startGost([
      "-L",
      `rtcp://127.0.0.1:${rport}/127.0.0.1:${echo.port}`,
      "-L",
      `rudp://127.0.0.1:${uport}/127.0.0.1:${uecho.port}`,
      "-F",
      `${kind}://127.0.0.1:${sport}`,
    ], 2);
    try {
      await waitUntil(() => echoes(rport), "rtcp through real gost");
      let got: Uint8Array | null = null;
      await waitUntil(
        async () => (got = await udpRoundTrip(uport, "x", 500)) !== null,
        "rudp through real gost",
      );
      assert.equal(new TextDecoder().decode(got!), "g:x");
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
      uecho.close();
    }
  });

  Deno.test(
    { name: `real gost rtcp client through our ${kind}?bind=true`, ignore: !GOST_BIN, ...opts },
    async () => {
      const echo = tcpEchoServer();
      const sport = freePort(), rport = freePort();
      const server = await startGost(["-L", `${kind}://127.0.0.1:${sport}?bind=true`]);
      const client = spawnProcess(GOST_BIN!, [
        "-L",
        `rtcp://127.0.0.1:${rport}/127.0.0.1:${echo.port}`,
        "-F",
        `${kind}://127.0.0.1:${sport}`,
      ]);
      try {
        await waitUntil(() => echoes(rport), "real gost rtcp through our server");
      } finally {
        await client.stop();
        await server.stop();
        echo.close();
      }
    },
  );
}
