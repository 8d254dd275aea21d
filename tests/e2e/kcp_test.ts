/**
 * KCP listener and dialer under faults: junk datagrams, wrong keys, a flood of new sessions
 * from many source ports, a peer that vanishes, and a lossy, reordering, duplicating link.
 * Plus the CLI path (`kcp://` forward service and `forward+kcp` chain node), and real gost
 * when GOST_BIN is set.
 */
import assert from "node:assert/strict";
import { rootLogger } from "../../src/core/log.ts";
import { echoThrough, firstPacket, kcpDialer, kcpForwardServer } from "../interop/_kcp_helpers.ts";
import { freePort, randomBytes, sha256, startGost, tcpEchoServer, tcpRoundTrip } from "../_helpers.ts";

const log = rootLogger.with({ test: "kcp" });
const opts = { sanitizeOps: false, sanitizeResources: false };

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function udpSocket(): Deno.DatagramConn {
  return Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
}

function addrOf(s: string): Deno.NetAddr {
  const i = s.lastIndexOf(":");
  return { transport: "udp", hostname: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

Deno.test({
  name: "kcp listener: 10,000 junk datagrams leave no session or buffer, and service goes on",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({}, echo.port);
    const socks = Array.from({ length: 20 }, udpSocket);
    const to = addrOf(server.addr);
    try {
      for (let i = 0; i < 10_000; i++) {
        const len = i % 7 === 0 ? i % 20 : 20 + (i * 131) % 1480; // some under the header size
        await socks[i % socks.length].send(crypto.getRandomValues(new Uint8Array(len)), to);
        // Pace the sender so that the kernel's socket buffer does not drop the junk for us.
        if (i % 100 === 99) {
          await until(() => server.stats.dropped >= i - 100, 2000, "the listener to keep up");
        }
      }
      await until(() => server.stats.dropped >= 9_900, 5000, "junk to be dropped");
      assert.equal(server.sessionCount, 0);
      assert.equal(server.pendingCount, 0);
      // A real client still gets through.
      const dialer = kcpDialer({});
      const data = randomBytes(100_000, 3);
      assert.deepEqual(await echoThrough(await dialer.dial(server.addr, { log }), data), data);
      dialer.close();
    } finally {
      socks.forEach((s) => s.close());
      server.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "kcp listener: a client with the wrong key makes no session; its packets are counted as dropped",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({ "kcp.key": "right" }, echo.port);
    const dialer = kcpDialer({ "kcp.key": "wrong" });
    try {
      const s = await dialer.dial(server.addr, { log });
      const w = s.writable.getWriter();
      await w.write(new Uint8Array(100));
      await until(() => server.stats.dropped > 0, 3000, "drops");
      assert.equal(server.sessionCount, 0);
      s.close();
    } finally {
      dialer.close();
      server.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "kcp listener: a flood of new conversations from 600 source ports is bounded and reaped",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({ handshakeTimeout: "500ms", backlog: "64" }, echo.port);
    const socks = Array.from({ length: 600 }, udpSocket);
    try {
      const to = addrOf(server.addr);
      await Promise.all(socks.map((s, i) => s.send(firstPacket(1000 + i), to)));
      // The kernel may drop part of the burst; most of it must reach the listener.
      await until(() => server.stats.sessionsOpened >= 300, 5000, "flood handled");
      // All from one address: kcp.backlogPerIP (16) of them at a time, older ones making room.
      assert.ok(server.sessionCount <= 16, `sessions ${server.sessionCount}`);
      assert.equal(server.stats.evicted, server.stats.sessionsOpened - server.sessionCount);
      assert.equal(server.stats.refused, 0);
      await until(() => server.sessionCount === 0, 5000, "half-open sessions to be reaped");
    } finally {
      socks.forEach((s) => s.close());
      server.close();
      echo.close();
    }
  },
});

Deno.test({
  name:
    "kcp listener: a flood of forged sessions from one address evicts its own, not another's half-open one",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({}, echo.port);
    const to = addrOf(server.addr);
    const victim = udpSocket();
    const flood = Array.from(
      { length: 300 },
      () => Deno.listenDatagram({ hostname: "127.0.0.2", port: 0, transport: "udp" }),
    );
    try {
      // A client on 127.0.0.1 still in its handshake (no stream yet) when the flood starts.
      await victim.send(firstPacket(7), to);
      await until(() => server.sessionCount === 1, 2000, "the victim's session");
      await Promise.all(flood.map((s, i) => s.send(firstPacket(1000 + i), to)));
      await until(() => server.stats.sessionsOpened >= 200, 5000, "flood handled");
      const remotes = server.sessions().map((s) => s.remote);
      assert.ok(remotes.includes(`127.0.0.1:${(victim.addr as Deno.NetAddr).port}`), "victim evicted");
      assert.ok(remotes.length <= 17, `${remotes.length} sessions`); // the victim + kcp.backlogPerIP (16)
      // And a new client from the victim's address gets through at once.
      const dialer = kcpDialer({});
      const data = randomBytes(10_000, 5);
      assert.deepEqual(await echoThrough(await dialer.dial(server.addr, { log }), data), data);
      dialer.close();
    } finally {
      victim.close();
      flood.forEach((s) => s.close());
      server.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "kcp listener: a peer that vanishes is reaped after kcp.idleTimeout",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({ "kcp.idleTimeout": "1s" }, echo.port);
    const dialer = kcpDialer({});
    try {
      const s = await dialer.dial(server.addr, { log });
      assert.deepEqual(await echoThrough(s, new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]));
      assert.equal(server.sessionCount, 1);
      dialer.close(); // no goodbye on the wire: the server only sees silence
      await until(() => server.sessionCount === 0, 5000, "the silent session to be reaped");
    } finally {
      server.close();
      echo.close();
    }
  },
});

/**
 * A UDP relay between a client and `target` that drops, duplicates and reorders datagrams
 * (independently per direction). `fate` decides for the n-th datagram of a direction.
 */
function lossyRelay(
  target: string,
  fate: (dir: "up" | "down", n: number) => "drop" | "dup" | "delay" | "pass",
) {
  const front = udpSocket();
  const back = udpSocket();
  const to = addrOf(target);
  let client: Deno.NetAddr | null = null;
  const counts = { up: 0, down: 0 };
  const forward = (sock: Deno.DatagramConn, dir: "up" | "down", data: Uint8Array, dst: Deno.NetAddr) => {
    const f = fate(dir, counts[dir]++);
    if (f === "drop") return;
    const copy = data.slice();
    if (f === "delay") setTimeout(() => sock.send(copy, dst).catch(() => {}), 5);
    else sock.send(copy, dst).catch(() => {});
    if (f === "dup") sock.send(copy, dst).catch(() => {});
  };
  (async () => {
    for (;;) {
      const [d, from] = await front.receive();
      client = from as Deno.NetAddr;
      forward(back, "up", d, to);
    }
  })().catch(() => {});
  (async () => {
    for (;;) {
      const [d] = await back.receive();
      if (client) forward(front, "down", d, client);
    }
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(front.addr as Deno.NetAddr).port}`,
    close() {
      front.close();
      back.close();
    },
  };
}

/** A deterministic pseudo-random fate: ~pct% drop, ~pct% duplicate, ~pct% reordered. */
function chaos(pct: number) {
  let x = 12345;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = (x >>> 8) % 1000;
    if (r < pct * 10) return "drop" as const;
    if (r < pct * 20) return "dup" as const;
    if (r < pct * 30) return "delay" as const;
    return "pass" as const;
  };
}

Deno.test({
  name: "kcp: 5 MiB arrives intact through a link that drops, duplicates and reorders 3% each",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({}, echo.port);
    const rnd = chaos(3);
    const link = lossyRelay(server.addr, () => rnd());
    const dialer = kcpDialer({});
    try {
      const data = randomBytes(5 << 20, 11);
      const back = await echoThrough(await dialer.dial(link.addr, { log }), data);
      assert.equal(await sha256(back), await sha256(data));
      const [client] = dialer.sessions();
      assert.ok(client.stats.fecRecovered > 0, "FEC rebuilt nothing");
      assert.ok(client.arq.stats.retransSegs > 0, "3% loss must need some retransmission");
    } finally {
      dialer.close();
      link.close();
      server.close();
      echo.close();
    }
  },
});

/** Echoes 2 MiB through a relay that drops 1 in 40 datagrams client to server; returns counters. */
async function lowLossRun(md: Record<string, string>) {
  const echo = tcpEchoServer();
  const server = await kcpForwardServer(md, echo.port);
  const link = lossyRelay(server.addr, (dir, n) => dir === "up" && n % 40 === 17 ? "drop" : "pass");
  const dialer = kcpDialer(md);
  try {
    const data = randomBytes(2 << 20, 13);
    const back = await echoThrough(await dialer.dial(link.addr, { log }), data);
    assert.equal(await sha256(back), await sha256(data));
    const [srv] = server.sessions();
    const [cli] = dialer.sessions();
    return { recovered: srv.stats.fecRecovered, retrans: cli.arq.stats.retransSegs };
  } finally {
    dialer.close();
    link.close();
    server.close();
    echo.close();
  }
}

Deno.test({
  name: "kcp: at low loss (1 in 40 datagrams) FEC repairs the losses that otherwise need retransmission",
  ...opts,
  fn: async () => {
    // Windows of 32 (what real gost runs with) keep bursts inside the kernel's default UDP
    // buffers, so that nearly all losses are the relay's.
    const md = { "kcp.sndwnd": "32", "kcp.rcvwnd": "32" };
    const withFec = await lowLossRun(md);
    const without = await lowLossRun({ ...md, "kcp.datashard": "0", "kcp.parityshard": "0" });
    assert.equal(without.recovered, 0);
    assert.ok(withFec.recovered > 20, `FEC recovered ${withFec.recovered}`);
    assert.ok(
      withFec.retrans * 2 < without.retrans,
      `retransmitted ${withFec.retrans} with FEC (recovered ${withFec.recovered}), ${without.retrans} without`,
    );
  },
});

Deno.test({
  name: "kcp CLI: -L kcp://:K/:T and -L tcp://:P -F forward+kcp://:K carry 1 MiB",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const k = freePort(), p = freePort();
    const server = await startGost(["-L", `kcp://127.0.0.1:${k}/127.0.0.1:${echo.port}`], 1);
    const client = await startGost(["-L", `tcp://127.0.0.1:${p}`, "-F", `forward+kcp://127.0.0.1:${k}`], 1);
    try {
      const data = randomBytes(1 << 20, 5);
      assert.equal(await sha256(await tcpRoundTrip(p, data)), await sha256(data));
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  },
});

const GOST_BIN = Deno.env.get("GOST_BIN");
if (!GOST_BIN) console.warn("SKIP kcp against real gost: set GOST_BIN to a gost 3.x binary");

/** Starts the real gost binary and waits until it listens. */
async function realGost(args: string[]): Promise<Deno.ChildProcess> {
  const p = new Deno.Command(GOST_BIN!, { args, stdout: "null", stderr: "null" }).spawn();
  await new Promise((r) => setTimeout(r, 1000));
  return p;
}

Deno.test({
  name: "kcp with real gost (defaults both sides): its forward+kcp client to our kcp://, ours to its",
  ignore: !GOST_BIN,
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const data = randomBytes(1 << 20, 21);
    // real client -> our server
    let k = freePort(), p = freePort();
    let ours = await startGost(["-L", `kcp://127.0.0.1:${k}/127.0.0.1:${echo.port}`], 1);
    let theirs = await realGost(["-L", `tcp://127.0.0.1:${p}`, "-F", `forward+kcp://127.0.0.1:${k}`]);
    try {
      assert.equal(await sha256(await tcpRoundTrip(p, data)), await sha256(data));
    } finally {
      theirs.kill();
      await theirs.status;
      await ours.stop();
    }
    // our client -> real server
    k = freePort(), p = freePort();
    theirs = await realGost(["-L", `kcp://127.0.0.1:${k}/127.0.0.1:${echo.port}`]);
    ours = await startGost(["-L", `tcp://127.0.0.1:${p}`, "-F", `forward+kcp://127.0.0.1:${k}`], 1);
    try {
      assert.equal(await sha256(await tcpRoundTrip(p, data)), await sha256(data));
    } finally {
      await ours.stop();
      theirs.kill();
      await theirs.status;
      echo.close();
    }
  },
});
