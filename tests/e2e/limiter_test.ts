/**
 * Limiters through the real CLI: traffic rates measured over transfers (service, per connection,
 * per client IP), climiter refusing the N+1-th connection, rlimiter refusing over-rate ones, the
 * CLI forms, and reloads (SIGHUP, a limits file with `reload`) reaching new connections while
 * live ones go on. Byte units are gost's: 1MB = 1 MiB; every bucket starts full (one second of
 * burst), so N MiB at 1 MB/s take N-1 seconds.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import yaml from "js-yaml";
import { deadline } from "../../src/core/timeout.ts";
import { freePort, type GostProcess, runGost, startGost, tcpEchoServer, waitUntil } from "../_helpers.ts";

const MiB = 1024 * 1024;

/**
 * A target for timed transfers: a client's first byte picks the direction — `D`: the server
 * sends `n` bytes then closes; `U`: it reads `n` bytes then answers one byte.
 */
function transferServer(n: number): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const c of l) {
      conns.add(c);
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        try {
          const first = await c.read(buf.subarray(0, 1));
          if (first === null) return;
          if (buf[0] === 0x44) {
            for (let sent = 0; sent < n;) {
              sent += await c.write(buf.subarray(0, Math.min(buf.length, n - sent)));
            }
          } else {
            for (let got = 0; got < n;) {
              const r = await c.read(buf);
              if (r === null) return;
              got += r;
            }
            await c.write(new Uint8Array([1]));
          }
        } catch {
          // the client went away
        } finally {
          conns.delete(c);
          c.close();
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    close() {
      l.close();
      for (const c of conns) c.close();
    },
  };
}

/** Seconds a download (`D`) or upload (`U`) of `n` bytes through `port` takes. */
async function transfer(port: number, dir: "D" | "U", n: number): Promise<number> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const t0 = performance.now();
    await c.write(new Uint8Array([dir.charCodeAt(0)]));
    const buf = new Uint8Array(64 * 1024);
    if (dir === "D") {
      for (let got = 0; got < n;) {
        const r = await deadline(c.read(buf), 30_000, "download");
        if (r === null) throw new Error(`download ended after ${got} of ${n} bytes`);
        got += r;
      }
    } else {
      const writing = (async () => {
        for (let sent = 0; sent < n;) sent += await c.write(buf.subarray(0, Math.min(buf.length, n - sent)));
      })();
      const r = await deadline(c.read(buf.subarray(0, 1)), 30_000, "upload answer");
      if (r === null) throw new Error("upload not acknowledged");
      await writing;
    }
    return (performance.now() - t0) / 1000;
  } finally {
    c.close();
  }
}

/** `value` within ±`tolerance` (a fraction) of `expected`. */
function near(value: number, expected: number, tolerance: number, what: string): void {
  ok(
    Math.abs(value - expected) <= expected * tolerance,
    `${what}: ${value.toFixed(3)} s, expected ${expected} s ±${tolerance * 100}%`,
  );
}

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gost-limiter-" });
  try {
    const path = `${dir}/gost.yaml`;
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const forward = (name: string, port: number, target: number, extra: string) =>
  `  - name: ${name}
    addr: 127.0.0.1:${port}
${extra}    handler:
      type: tcp
    listener:
      type: tcp
    forwarder:
      nodes:
        - name: t
          addr: 127.0.0.1:${target}
`;

Deno.test("limiter: limiter.in/out of 1MB hold the service to 1 MiB/s each way (4 MiB: 3 s ±10%)", async () => {
  const target = transferServer(4 * MiB);
  const port = freePort();
  const g = await startGost([
    "-L",
    `tcp://127.0.0.1:${port}/127.0.0.1:${target.port}?limiter.in=1MB&limiter.out=1MB`,
  ]);
  try {
    const [down, up] = await Promise.all([transfer(port, "D", 4 * MiB), transfer(port, "U", 4 * MiB)]);
    near(down, 3, 0.1, "download (out)");
    near(up, 3, 0.1, "upload (in)");
  } finally {
    await g.stop();
    target.close();
  }
});

Deno.test("limiter: $$ gives each connection its own rate, an IP line one rate for all of that IP's", async () => {
  const target = transferServer(2 * MiB);
  const [perConn, perIp] = [freePort(), freePort()];
  const config = `services:
${forward("conn", perConn, target.port, "    limiter: per-conn\n")}${
    forward("ip", perIp, target.port, "    limiter: per-ip\n")
  }limiters:
  - name: per-conn
    limits: ["$$ 1MB 1MB"]
  - name: per-ip
    limits: ["127.0.0.1 1MB 1MB", "10.0.0.0/8 1KB"]
`;
  await withFile(config, async (path) => {
    const g = await startGost(["-C", path], 2);
    try {
      const both = (p: number) => Promise.all([transfer(p, "D", 2 * MiB), transfer(p, "D", 2 * MiB)]);
      const [conn, ip] = await Promise.all([both(perConn), both(perIp)]);
      // Each connection: 1 MiB burst, then 1 MiB at 1 MiB/s. Shared: 4 MiB less one burst at 1 MiB/s.
      for (const s of conn) near(s, 1, 0.2, "$$ connection");
      near(Math.max(...ip), 3, 0.1, "both connections of one IP");
    } finally {
      await g.stop();
      target.close();
    }
  });
});

/** Opens a connection and says whether it is served (echoes) or closed at once. */
async function served(port: number): Promise<{ conn: Deno.Conn; served: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new Uint8Array([7]));
    const buf = new Uint8Array(1);
    const n = await deadline(conn.read(buf), 5000, "echo or close");
    return { conn, served: n === 1 };
  } catch {
    return { conn, served: false }; // reset
  }
}

Deno.test("limiter: climiter=2 closes the third concurrent connection at once, takes one again after a close", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}?climiter=2`]);
  try {
    const a = await served(port), b = await served(port);
    ok(a.served && b.served);
    const c = await served(port);
    equal(c.served, false, "third connection closed");
    c.conn.close();
    await g.waitFor(
      /"refused: climiter: the service has 2 connections \(limit 2\)".*"remote":"127\.0\.0\.1:\d+"/,
    );
    a.conn.close();
    await waitUntil(async () => {
      const d = await served(port);
      d.conn.close();
      return d.served;
    }, () => "a connection after one closed");
    b.conn.close();
  } finally {
    await g.stop();
    echo.close();
  }
});

Deno.test("limiter: rlimiter=2 serves a burst of 3, then closes over-rate connections; logging is rate-limited", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  const g = await startGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}?rlimiter=2`]);
  try {
    // All at once, so that they fall into one second of the refusal log.
    const results = await Promise.all(Array.from({ length: 20 }, () => served(port)));
    for (const r of results) r.conn.close();
    const n = results.filter((r) => r.served).length;
    ok(n >= 3 && n <= 5, `${n} of 20 served`); // a burst of 3, plus 2 per second of the run
    await g.waitFor(/refused: rlimiter: the service is over 2 requests per second/);
    const lines = g.stderr().split("\n").filter((l) => l.includes("refused: rlimiter")).length;
    ok(lines <= 10, `${lines} refusal lines in one second`);
    if (lines === 10) await g.waitFor(/\d+ more refused connection\(s\) not logged in the last second/, 5000);
  } finally {
    await g.stop();
    echo.close();
  }
});

Deno.test("limiter: the CLI forms print gost's sections in -O yaml and start", async () => {
  const url =
    "tcp://127.0.0.1:0/1.2.3.4:80?limiter.in=1MB&limiter.out=2MB&limiter.conn.in=100KB&climiter=10&rlimiter=2.5";
  const r = await runGost(["-L", url, "-O", "yaml"]);
  equal(r.code, 0, r.stderr);
  const cfg = yaml.load(r.stdout) as Record<string, any>;
  const svc = cfg.services[0];
  deepStrictEqual([svc.limiter, svc.climiter, svc.rlimiter], ["limiter-0", "climiter-0", "rlimiter-0"]);
  deepStrictEqual(cfg.limiters, [{ name: "limiter-0", limits: ["$ 1MB 2MB", "$$ 100KB "] }]);
  deepStrictEqual(cfg.climiters, [{ name: "climiter-0", limits: ["$ 10"] }]);
  deepStrictEqual(cfg.rlimiters, [{ name: "rlimiter-0", limits: ["$ 2.5"] }]);
  // gost keeps the keys in the listener's and the service's metadata; they are known there.
  equal(svc.metadata["limiter.in"], "1MB");
  const g = await startGost(["-L", url]);
  try {
    match(g.stderr(), /listening on/);
    ok(!/unknown option/.test(g.stderr()), g.stderr());
  } finally {
    await g.stop();
  }
});

Deno.test("limiter: a bad limit line stops the start naming its config line", async () => {
  const config = `services:
${forward("s", freePort(), 1, "    limiter: l\n")}limiters:
  - name: l
    limits:
      - "$ 1MB"
      - "$$ 100 100"
`;
  await withFile(config, async (path) => {
    const r = await runGost(["-C", path]);
    equal(r.code, 1, r.stderr);
    const line = config.split("\n").findIndex((l) => l.includes("$$ 100 100")) + 1;
    match(
      r.stderr,
      new RegExp(`line ${line}: limiters\\[0\\]\\.limits\\[1\\]: invalid limit "\\$\\$ 100 100"`),
    );
  });
});

/** Seconds a 1 MiB download takes; 1 MiB at 512KB/s (after a 512 KiB burst) is 1 s. */
const oneMiB = (port: number) => transfer(port, "D", MiB);

Deno.test({
  name: "limiter: SIGHUP and a limits file with reload change the rate of new connections; live ones go on",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const target = transferServer(MiB);
    const echo = tcpEchoServer();
    const [port, echoPort] = [freePort(), freePort()];
    const dir = await Deno.makeTempDir({ prefix: "gost-limiter-" });
    const limits = `${dir}/limits.txt`;
    const path = `${dir}/gost.yaml`;
    const config = (inline: string) =>
      `services:
${forward("dl", port, target.port, "    limiter: l\n")}${
        forward("echo", echoPort, echo.port, "    limiter: l\n")
      }limiters:
  - name: l
    limits: [${inline}]
    reload: 1s
    file:
      path: ${limits}
`;
    await Deno.writeTextFile(limits, "# none yet\n");
    await Deno.writeTextFile(path, config(`"$$ 64MB 64MB"`));
    let g: GostProcess | undefined;
    try {
      g = await startGost(["-C", path], 2);
      ok((await oneMiB(port)) < 0.5, "fast before");
      const live = await served(echoPort);
      ok(live.served);
      // SIGHUP with a lower inline limit: a new connection gets it; the live one still echoes.
      await Deno.writeTextFile(path, config(`"$$ 512KB 512KB"`));
      g.child.kill("SIGHUP");
      await g.waitFor(/reload: 0 kept, 2 replaced/);
      near(await oneMiB(port), 1, 0.25, "after SIGHUP");
      await live.conn.write(new Uint8Array([9]));
      equal(await deadline(live.conn.read(new Uint8Array(1)), 5000, "live echo"), 1);
      // The file (which wins over the inline line) lifts the limit without a signal.
      await Deno.writeTextFile(limits, "$$ 64MB 64MB # lifted\n");
      await g.waitFor(/reload: 1 limit\(s\) from/, 5000);
      ok((await oneMiB(port)) < 0.5, "fast again after the file reload");
      live.conn.close();
    } finally {
      await g?.stop();
      target.close();
      echo.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
