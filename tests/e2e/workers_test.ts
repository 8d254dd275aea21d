/**
 * Worker threads sharing a service's port (src/service/workers.ts) through the real CLI:
 * connections land on more than one thread with their bytes intact, SIGHUP reload reaches every
 * thread, SIGTERM stops them all with exit 0, and a config no worker can serve runs as before.
 * @module
 */
import assert from "node:assert/strict";
import { deadline } from "../../src/core/timeout.ts";
import {
  decoder,
  forwardServiceYaml,
  freePort,
  type GostProcess,
  randomBytes,
  runGost,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  waitUntil,
} from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: Deno.build.os !== "linux" };

type Line = Record<string, unknown> & { msg: string };

function lines(g: GostProcess): Line[] {
  return g.stderr().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** The thread that logged a line: its worker id, or 0 for the main thread. */
const threadOf = (l: Line) => (typeof l.worker === "number" ? l.worker : 0);

/** Per-connection summary lines (`remote >< local`). */
const connLines = (g: GostProcess) => lines(g).filter((l) => / >< /.test(l.msg));

/**
 * Starts gost and waits until it says that `threads` threads accept connections (workers listen
 * before the main thread, which says "listening on" once per service and then this).
 */
async function startWithWorkers(args: string[], services: number, threads: number): Promise<GostProcess> {
  const g = await startGost(args, services);
  await g.waitFor(new RegExp(`"msg":"workers: ${threads} threads accept connections for `));
  assert.equal(lines(g).filter((l) => l.msg.startsWith("listening on")).length, services);
  return g;
}

/** Opens a connection and reads the target's greeting line (which target answered). */
async function greeted(port: number): Promise<{ conn: Deno.Conn; tag: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(64);
  let got = "";
  while (!got.includes("\n")) {
    const n = await deadline(conn.read(buf), 5000, `greeting on port ${port}`);
    if (n === null) throw new Error(`port ${port}: closed before the greeting`);
    got += decoder.decode(buf.subarray(0, n));
  }
  return { conn, tag: got.trim() };
}

/** Writes `n` bytes on `conn` and reads them back; throws when the connection has ended. */
async function echoOn(conn: Deno.Conn, n = 16 * 1024): Promise<void> {
  const data = randomBytes(n, n);
  const writing = (async () => {
    for (let off = 0; off < n;) off += await conn.write(data.subarray(off));
  })();
  const back = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const r = await deadline(conn.read(back.subarray(got)), 5000, "echo");
    if (r === null) throw new Error(`connection ended after ${got} of ${n} bytes`);
    got += r;
  }
  await writing;
  assert.deepEqual(back, data);
}

Deno.test({
  name: "workers: connections land on more than one thread, bytes intact, one log line each",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const port = freePort();
    const g = await startWithWorkers(
      ["-workers", "2", "-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}`],
      1,
      2,
    );
    try {
      const N = 40;
      await Promise.all(Array.from({ length: N }, async (_, i) => {
        const data = randomBytes(64 * 1024 + i, i + 1);
        assert.equal(await sha256(await tcpRoundTrip(port, data)), await sha256(data), `connection ${i}`);
      }));
      await waitUntil(() => connLines(g).length >= N, () => `${N} connection lines; stderr:\n${g.stderr()}`);
      const conns = connLines(g);
      assert.equal(conns.length, N, "one line per connection");
      const threads = new Set(conns.map(threadOf));
      assert.deepEqual([...threads].sort(), [0, 1], "both threads served connections");
      for (const l of conns) assert.equal(l.outputBytes, l.inputBytes);
      assert.equal(await g.stop(), 0);
    } finally {
      await g.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "workers: auto (the default) stays one thread until connections keep it busy, then starts them",
  ...opts,
  ignore: opts.ignore || navigator.hardwareConcurrency < 2,
  fn: async () => {
    const echo = tcpEchoServer(0, { greeting: "A" });
    const port = freePort();
    const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}`], 1);
    const held: Deno.Conn[] = [];
    try {
      // Light traffic, even on overlapping connections: no worker.
      held.push((await greeted(port)).conn, (await greeted(port)).conn);
      for (let i = 0; i < 10; i++) for (const c of held) await echoOn(c, 1024);
      await new Promise((r) => setTimeout(r, 1500));
      assert.doesNotMatch(g.stderr(), /workers: |"worker"/);
      // Connections opened and closed as fast as they can, several live at any moment: the workers
      // start. (Bulk data would not do: a TCP forward splices it in the kernel, at little CPU.)
      let busy = true;
      const pumping = Array.from({ length: 16 }, async () => {
        while (busy) {
          const { conn } = await greeted(port);
          await echoOn(conn, 1024).finally(() => conn.close());
        }
      });
      try {
        await g.waitFor(
          /workers: \d+ connections keep one thread busy \(\d+% CPU\), starting \d+ more thread/,
        );
        await g.waitFor(
          new RegExp(
            `"msg":"workers: ${navigator.hardwareConcurrency} threads accept connections for service-0"`,
          ),
        );
      } finally {
        busy = false;
        await Promise.all(pumping);
      }
      // Every churned connection has closed; its line is written as it closes.
      let churned = 0;
      await waitUntil(() => {
        const n = connLines(g).length;
        const settled = n === churned && n > 0;
        churned = n;
        return settled;
      }, () => `the churned connections' lines; stderr:\n${g.stderr()}`);
      // Later connections land on the workers too.
      for (let i = 0; i < 30; i++) held.push((await greeted(port)).conn);
      for (const c of held) await echoOn(c, 1024);
      for (const c of held.splice(0)) c.close();
      await waitUntil(
        () => connLines(g).length >= churned + 32,
        () => `32 more connection lines; stderr:\n${g.stderr()}`,
      );
      assert.ok(
        connLines(g).slice(churned).some((l) => threadOf(l) > 0),
        "a worker served a later connection",
      );
      assert.equal(await g.stop(), 0);
    } finally {
      for (const c of held) c.close();
      await g.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "workers: SIGTERM ends live connections on every thread and exits 0",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer(0, { greeting: "A" });
    const port = freePort();
    const g = await startWithWorkers(
      ["-workers", "2", "-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}`],
      1,
      2,
    );
    const conns: Deno.Conn[] = [];
    try {
      // 16 live connections: the kernel puts some on each thread (all on one: p = 2^-15).
      for (let i = 0; i < 16; i++) conns.push((await greeted(port)).conn);
      for (const c of conns) await echoOn(c);
      assert.equal(await deadline(g.stop(), 10_000, "gost to exit"), 0);
      // Every live connection was ended by its thread (read gives EOF or an error, never hangs).
      for (const c of conns) {
        const r = await deadline(c.read(new Uint8Array(16)).catch(() => null), 5000, "connection end");
        assert.equal(r, null);
      }
      const served = new Set(connLines(g).map(threadOf));
      assert.deepEqual([...served].sort(), [0, 1], "live connections on both threads were logged at stop");
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await g.stop();
      echo.close();
    }
  },
});

const forward = forwardServiceYaml;

Deno.test({
  name: "workers: SIGHUP reload reaches every thread (kept, replaced, removed, rejected)",
  ...opts,
  fn: async () => {
    const [echoA, echoB] = [tcpEchoServer(0, { greeting: "A" }), tcpEchoServer(0, { greeting: "B" })];
    const [pKeep, pChange, pRemove] = [freePort(), freePort(), freePort()];
    const dir = await Deno.makeTempDir();
    const path = `${dir}/gost.yaml`;
    await Deno.writeTextFile(
      path,
      `workers: 2\nservices:\n${forward("keep", pKeep, echoA.port)}${forward("change", pChange, echoA.port)}${
        forward("remove", pRemove, echoA.port)
      }`,
    );
    const g = await startWithWorkers(["-C", path], 3, 2);
    const held: Deno.Conn[] = [];
    const reload = async (yaml: string, expect: RegExp, times: number) => {
      const before = lines(g).filter((l) => expect.test(l.msg)).length;
      await Deno.writeTextFile(path, yaml);
      g.child.kill("SIGHUP");
      await waitUntil(
        () => lines(g).filter((l) => expect.test(l.msg)).length >= before + times,
        () => `${expect} x${times} after SIGHUP; stderr:\n${g.stderr()}`,
      );
    };
    try {
      for (let i = 0; i < 8; i++) held.push((await greeted(pKeep)).conn);
      const oldChange: Deno.Conn[] = [];
      for (let i = 0; i < 8; i++) oldChange.push((await greeted(pChange)).conn);
      held.push(...oldChange);

      // Main thread and worker each log their own reload summary.
      await reload(
        `workers: 2\nservices:\n${forward("keep", pKeep, echoA.port)}${
          forward("change", pChange, echoB.port)
        }`,
        /^reload: 1 kept, 1 replaced, 0 added, 1 removed$/,
        2,
      );
      const summaries = lines(g).filter((l) => l.msg.startsWith("reload: 1 kept"));
      assert.deepEqual(summaries.map(threadOf).sort(), [0, 1]);
      // kept and replaced: live connections carry on (on whichever thread holds them)
      for (const c of held) await echoOn(c);
      // every new connection, on any thread, gets the new target
      for (let i = 0; i < 16; i++) {
        const { conn, tag } = await greeted(pChange);
        held.push(conn);
        assert.equal(tag, "B", `connection ${i} after reload`);
      }
      // removed on every thread: its port refuses
      await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: pRemove }).then((c) => c.close()));

      // an invalid config changes nothing anywhere
      await reload(`workers: 2\nservices:\n  - name: x\n    addr: nowhere\n`, /config rejected/, 1);
      for (let i = 0; i < 8; i++) {
        const { conn, tag } = await greeted(pChange);
        held.push(conn);
        assert.equal(tag, "B");
      }

      // No service left a worker could run (round robin over two targets is one rotation):
      // the worker stops accepting and ends after its live connections; the main thread serves.
      await reload(
        `workers: 2\nservices:\n${
          forward("keep", pKeep, echoA.port).replace(
            `          addr: 127.0.0.1:${echoA.port}\n`,
            `          addr: 127.0.0.1:${echoA.port}\n        - name: u\n          addr: 127.0.0.1:${echoB.port}\n`,
          )
        }`,
        /^reload: 0 kept, 1 replaced, 0 added, 1 removed$/,
        1,
      );
      for (const c of held.slice(0, 8)) await echoOn(c);
      const before = connLines(g).length;
      const fresh: Deno.Conn[] = [];
      for (let i = 0; i < 12; i++) fresh.push((await greeted(pKeep)).conn);
      assert.deepEqual(fresh.length, 12);
      for (const c of fresh) c.close();
      await waitUntil(() => connLines(g).length >= before + 12, "lines of the new connections");
      assert.deepEqual(new Set(connLines(g).slice(before).map(threadOf)), new Set([0]));
      await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: pChange }).then((c) => c.close()));
      assert.equal(await g.stop(), 0);
    } finally {
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await g.stop();
      echoA.close();
      echoB.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "workers: a config no worker can serve runs on the main thread only, as before",
  ...opts,
  fn: async () => {
    const udpEcho = udpEchoServer();
    const echo = tcpEchoServer();
    const [u, t1, t2] = [freePort(), freePort(), freePort()];
    // udp listener; round robin over two targets (one rotation); -workers 1
    const runs: [string[], number][] = [
      [["-workers", "4", "-L", `udp://127.0.0.1:${u}/127.0.0.1:${udpEcho.port}`], 1],
      [["-workers", "4", "-L", `tcp://127.0.0.1:${t1}/127.0.0.1:${echo.port},127.0.0.1:${echo.port}`], 1],
      [["-workers", "1", "-L", `tcp://127.0.0.1:${t2}/127.0.0.1:${echo.port}`], 1],
    ];
    try {
      for (const [args, n] of runs) {
        const g = await startGost(args, n);
        try {
          if (args.join(" ").includes("tcp://")) {
            const port = Number(/:(\d+)\//.exec(args[3])![1]);
            for (let i = 0; i < 4; i++) await tcpRoundTrip(port, randomBytes(1000, i + 1));
          }
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(await g.stop(), 0);
          assert.doesNotMatch(g.stderr(), /"worker"/, args.join(" "));
          assert.equal(lines(g).filter((l) => l.msg.startsWith("listening on")).length, 1);
        } finally {
          await g.stop();
        }
      }
    } finally {
      udpEcho.close();
      echo.close();
    }
  },
});

Deno.test({
  name: "workers: a bad value is refused at load naming the key; -O yaml prints it only when given",
  ...opts,
  fn: async () => {
    const bad = await runGost(["-workers", "0", "-L", "tcp://127.0.0.1:1/127.0.0.1:2"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /workers: invalid value 0: expected "auto" or a number of threads from 1 to 64/);
    const shown = await runGost(["-workers", "2", "-L", "tcp://:8080/127.0.0.1:22", "-O", "yaml"]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /^workers: 2$/m);
    const plain = await runGost(["-L", "tcp://:8080/127.0.0.1:22", "-O", "yaml"]);
    assert.doesNotMatch(plain.stdout, /workers/);
  },
});

Deno.test({
  name: "workers: a port another program shares with SO_REUSEPORT still fails the start (exit 3)",
  ...opts,
  fn: async () => {
    const other = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
    try {
      const port = (other.addr as Deno.NetAddr).port;
      const r = await runGost(["-workers", "2", "-L", `tcp://127.0.0.1:${port}/127.0.0.1:9`]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*in use/i);
    } finally {
      other.close();
    }
  },
});
