/**
 * One client must not shut a service for everyone (issue 19): idle sockets on a tls/ws/wss
 * port, clients that leave mid-handshake, forged KCP sessions, noise to an HTTP port. Each
 * test floods a real CLI on loopback, then times a real client through it.
 * @module
 */
import assert from "node:assert/strict";
import { GOST_RUN_FLAGS } from "../../scripts/permissions.ts";
import { deadline } from "../../src/core/timeout.ts";
import { firstPacket } from "../interop/_kcp_helpers.ts";
import {
  decoder,
  encoder,
  freePort,
  freePorts,
  freeUdpPort,
  type GostProcess,
  MAIN,
  retry,
  spawnProcess,
  startGost,
  tcpEchoServer,
  waitUntil,
  which,
} from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const L = "127.0.0.1";

/** A short echo through `port` (a chain's entry); resolves with the milliseconds it took. */
async function timedEcho(port: number, ms = 3000): Promise<number> {
  const started = performance.now();
  const c = await Deno.connect({ hostname: L, port });
  try {
    await c.write(encoder.encode("ping"));
    const buf = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const n = await deadline(c.read(buf.subarray(got)), ms, `echo through :${port}`, () => c.close());
      if (n === null) throw new Error(`:${port} closed before the echo`);
      got += n;
    }
    assert.equal(decoder.decode(buf), "ping");
  } finally {
    try {
      c.close();
    } catch {
      // closed by the deadline
    }
  }
  return performance.now() - started;
}

/** `n` TCP connections to `port` that never send a byte. */
async function idleConnections(port: number, n: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) conns.push(await Deno.connect({ hostname: L, port }));
  return conns;
}

function closeAll(conns: Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // the server may have closed it
    }
  }
}

async function stopAll(procs: GostProcess[]): Promise<void> {
  for (const p of procs) await p.stop();
}

Deno.test({
  name: "relay+ws/tls/wss: 200 idle sockets on the relay port leave a chain client through within 1 s",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [ws, tls, wss, e1, e2, e3] = freePorts(6);
    const procs: GostProcess[] = [];
    let idle: Deno.Conn[] = [];
    try {
      procs.push(
        await startGost([
          "-L",
          `relay+ws://${L}:${ws}`,
          "-L",
          `relay+tls://${L}:${tls}`,
          "-L",
          `relay+wss://${L}:${wss}`,
        ], 3),
      );
      const entries = [[e1, `relay+ws://${L}:${ws}`], [e2, `relay+tls://${L}:${tls}`], [
        e3,
        `relay+wss://${L}:${wss}`,
      ]] as const;
      for (const [e, node] of entries) {
        procs.push(await startGost(["-L", `tcp://${L}:${e}/${L}:${echo.port}`, "-F", node]));
        await retry(() => timedEcho(e)); // the chain works before the flood
      }
      for (const port of [ws, tls, wss]) idle = idle.concat(await idleConnections(port, 200));
      await new Promise((r) => setTimeout(r, 300)); // let the server take them all
      for (const [e, node] of entries) {
        const ms = await timedEcho(e);
        assert.ok(ms < 1000, `${node}: ${ms.toFixed(0)} ms with 200 idle sockets on its port`);
      }
    } finally {
      closeAll(idle);
      await stopAll(procs);
      echo.close();
    }
  },
});

/** Reads from `c` until its end; "eof" or "reset" when the server let go, "open" after `ms`. */
async function serverLetGo(c: Deno.Conn, ms: number): Promise<string> {
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await deadline(c.read(buf), ms, "server close", () => c.close());
      if (n === null) return "eof";
    }
  } catch (err) {
    return (err as Error).name === "TimeoutError" ? "open" : "reset";
  } finally {
    try {
      c.close();
    } catch {
      // closed already
    }
  }
}

Deno.test({
  name: "tls/wss/ws: a client leaving mid-handshake is let go at once; 200 connect-and-close leave no socket",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [tls, wss, ws, entry] = freePorts(4);
    const procs: GostProcess[] = [];
    try {
      procs.push(
        await startGost([
          "-L",
          `relay+tls://${L}:${tls}`,
          "-L",
          `relay+wss://${L}:${wss}`,
          "-L",
          `relay+ws://${L}:${ws}`,
        ], 3),
      );
      procs.push(
        await startGost(["-L", `tcp://${L}:${entry}/${L}:${echo.port}`, "-F", `relay+tls://${L}:${tls}`]),
      );
      await retry(() => timedEcho(entry));
      // Half a TLS record header (or half an upgrade request), then the client's FIN.
      const partial: [number, Uint8Array][] = [
        [tls, new Uint8Array([0x16, 0x03, 0x01])],
        [wss, new Uint8Array([0x16, 0x03, 0x01])],
        [ws, encoder.encode("GET /ws HTTP/1.1\r\n")],
      ];
      for (const [port, bytes] of partial) {
        const c = await Deno.connect({ hostname: L, port });
        await c.write(bytes);
        await c.closeWrite();
        assert.notEqual(await serverLetGo(c, 1000), "open", `:${port} kept a half-closed handshake`);
      }
      for (let i = 0; i < 200; i++) (await Deno.connect({ hostname: L, port: tls })).close();
      assert.ok((await timedEcho(entry)) < 1000);
      if (which("ss")) {
        const closeWait = async () => {
          const out = await new Deno.Command("ss", {
            args: ["-Htn", "state", "close-wait", `( sport = :${tls} )`],
            stdout: "piped",
          }).output();
          return decoder.decode(out.stdout).trim().split("\n").filter((l) => l).length;
        };
        await waitUntil(async () => (await closeWait()) === 0, "no socket left in CLOSE-WAIT", 1000);
      }
    } finally {
      await stopAll(procs);
      echo.close();
    }
  },
});

/** Writes `bytes` to `port`; resolves with what came back before the close, or after `ms`. */
async function answerTo(port: number, bytes: Uint8Array, ms: number): Promise<string> {
  const c = await Deno.connect({ hostname: L, port });
  let text = "";
  try {
    await c.write(bytes);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await deadline(c.read(buf), ms, "answer", () => c.close()).catch(() => null);
      if (n === null) return text;
      text += decoder.decode(buf.subarray(0, n));
    }
  } finally {
    try {
      c.close();
    } catch {
      // closed already
    }
  }
}

Deno.test({
  name: "http/auto: bytes that cannot be a request are answered 400 at once, not after readTimeout",
  ...opts,
  fn: async () => {
    const [http, auto] = freePorts(2);
    const g = await startGost(["-L", `http://${L}:${http}`, "-L", `auto://${L}:${auto}`], 2);
    try {
      const noise = crypto.getRandomValues(new Uint8Array(300));
      noise[0] = 0xff; // neither SOCKS4 nor SOCKS5 for the auto handler
      const inputs = [
        noise,
        new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), // TLS to a plain port
        encoder.encode("hello there\r\n"),
      ];
      for (const port of [http, auto]) {
        for (const bytes of inputs) {
          const started = performance.now();
          const answer = await answerTo(port, bytes, 3000);
          assert.match(answer, /^HTTP\/1\.1 400 /, `:${port}: ${JSON.stringify(answer.slice(0, 40))}`);
          assert.ok(performance.now() - started < 1000);
        }
        // A request still arriving is not cut short.
        assert.equal(await answerTo(port, encoder.encode("GET http://a/ HTTP/1.1\r\nHost: a\r\n"), 300), "");
      }
    } finally {
      await g.stop();
    }
  },
});

Deno.test({
  name: "relay+kcp: forged sessions from 200 source ports every 500 ms do not lock out a real client",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const kcp = freeUdpPort();
    const entry = freePort();
    const procs: GostProcess[] = [];
    const socks = Array.from(
      { length: 200 },
      () => Deno.listenDatagram({ hostname: L, port: 0, transport: "udp" }),
    );
    let flooding = true;
    const to: Deno.NetAddr = { transport: "udp", hostname: L, port: kcp };
    // Under gost's default empty key a forged first datagram passes the CRC and opens a session.
    const flood = (async () => {
      for (let round = 0; flooding; round++) {
        await Promise.all(socks.map((s, i) => s.send(firstPacket(1 + round * 1000 + i), to).catch(() => 0)));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      const server = await startGost(["-L", `relay+kcp://${L}:${kcp}`]);
      procs.push(server);
      await new Promise((r) => setTimeout(r, 1200)); // the flood fills the half-open bounds
      procs.push(
        await startGost(["-L", `tcp://${L}:${entry}/${L}:${echo.port}`, "-F", `relay+kcp://${L}:${kcp}`]),
      );
      const started = performance.now();
      await retry(() => timedEcho(entry, 2000), 6000);
      const ms = performance.now() - started;
      assert.ok(ms < 3000, `${ms.toFixed(0)} ms to get through`);
      // Each further connection rides the established session.
      const times = [];
      for (let i = 0; i < 5; i++) times.push(Math.round(await timedEcho(entry)));
      assert.ok(times.every((t) => t < 1000), `${times} ms`);
      // Refusals and evictions are logged, but not one line per forged session.
      await waitUntil(() => /half-open sessions over/.test(server.stderr()), "an eviction log line", 2000);
      const lines = server.stderr().split("\n").filter((l) => l.includes("half-open sessions over")).length;
      assert.ok(lines <= 3, `${lines} eviction lines`);
    } finally {
      flooding = false;
      await flood;
      socks.forEach((s) => s.close());
      await stopAll(procs);
      echo.close();
    }
  },
});

// tls too: Deno's TLS accepts there, and an evicted handshake's socket is ended through its descriptor
// (src/core/tls/native_server.ts), by number when not even /proc can be read.
for (const channel of ["ws", "tls"]) {
  Deno.test({
    name:
      `out of file descriptors: idle ${channel} handshakes give way to a real client; failed accepts are logged, rate-limited`,
    ...opts,
    fn: async () => {
      const echo = tcpEchoServer();
      const [ws, tcp, entry] = freePorts(3);
      // gost with few descriptors: idle sockets exhaust them long before any other bound.
      const limited = spawnProcess(
        "sh",
        [
          "-c",
          'ulimit -n 80 && exec "$0" "$@"',
          Deno.execPath(),
          "run",
          ...GOST_RUN_FLAGS,
          MAIN,
          "-L",
          `relay+${channel}://${L}:${ws}`,
          "-L",
          `tcp://${L}:${tcp}/${L}:${echo.port}`,
        ],
        {},
        "gost",
      );
      const procs: GostProcess[] = [limited];
      let idle: Deno.Conn[] = [];
      try {
        await limited.waitFor(/(listening on[\s\S]*){2}/);
        procs.push(
          await startGost([
            "-L",
            `tcp://${L}:${entry}/${L}:${echo.port}`,
            "-F",
            `relay+${channel}://${L}:${ws}`,
          ]),
        );
        await retry(() => timedEcho(entry));
        idle = await idleConnections(ws, 150);
        await new Promise((r) => setTimeout(r, 300));
        assert.ok((await timedEcho(entry)) < 1000);
        // The tcp port's forwarded connections take two descriptors each: its accepts fail.
        idle = idle.concat(await idleConnections(tcp, 100));
        await limited.waitFor(/tcp: accept error: Too many open files/, 3000);
        await new Promise((r) => setTimeout(r, 500));
        const lines = limited.stderr().split("\n").filter((l) => l.includes("accept error")).length;
        assert.ok(lines <= 2, `${lines} accept error lines in under a second`);
      } finally {
        closeAll(idle);
        await stopAll(procs);
        echo.close();
      }
    },
  });
}
