/**
 * TLS and WebSocket data channels through the real CLI: the seed page's examples as written
 * (ports changed), stacking under forward/relay/http/socks5, dialers inside a tunnel, and bad
 * input closed with a logged reason while other connections carry on.
 * @module
 */
import assert from "node:assert/strict";
import * as tls from "node:tls";
import {
  freePort,
  type GostProcess,
  randomBytes,
  sha256,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
} from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const enc = new TextEncoder();
const dec = new TextDecoder();
const L = "127.0.0.1";

/** Starts each argv as one gost process (waiting for its services); stops them all after `fn`. */
async function withGost(procs: [string[], number][], fn: (g: GostProcess[]) => Promise<void>): Promise<void> {
  const started: GostProcess[] = [];
  try {
    for (const [args, n] of procs) started.push(await startGost(args, n));
    await fn(started);
  } finally {
    for (const g of started) await g.stop();
  }
}

/** 1 MiB through `port` and back, compared by checksum. */
async function assertEcho(port: number, size = 1 << 20, seed = 7): Promise<void> {
  const data = randomBytes(size, seed);
  const got = await tcpRoundTrip(port, data);
  assert.equal(got.length, data.length, `echoed ${got.length} of ${data.length} bytes`);
  assert.equal(await sha256(got), await sha256(data));
}

/** Opens an HTTP CONNECT tunnel through a proxy on `port`; returns the connection. */
async function httpConnect(port: number, target: string, auth?: string): Promise<Deno.Conn> {
  const c = await Deno.connect({ hostname: L, port });
  const pa = auth ? `Proxy-Authorization: Basic ${btoa(auth)}\r\n` : "";
  await c.write(enc.encode(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${pa}\r\n`));
  let head = "";
  const buf = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    const n = await c.read(buf);
    if (n === null) break;
    head += dec.decode(buf.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 200")) {
    c.close();
    throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  }
  return c;
}

async function echoOver(c: Deno.Conn, text: string): Promise<string> {
  await c.write(enc.encode(text));
  const buf = new Uint8Array(text.length);
  let got = 0;
  while (got < text.length) {
    const n = await c.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return dec.decode(buf.subarray(0, got));
}

Deno.test({
  name: "tls: tls://:A/:echo adds a TLS channel; tcp://:B -F forward+tls://:A removes it",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [a, b] = [freePort(), freePort()];
    try {
      await withGost([
        [["-L", `tls://${L}:${a}/${L}:${echo.port}`], 1],
        [["-L", `tcp://${L}:${b}`, "-F", `forward+tls://${L}:${a}`], 1],
      ], async () => {
        await assertEcho(b);
        // The TLS port really speaks TLS: a node:tls client gets the echo too.
        const s = tls.connect({ host: L, port: a, rejectUnauthorized: false });
        await new Promise((r, j) => s.once("secureConnect", r).once("error", j));
        s.write("over tls");
        const [chunk] = await new Promise<[Uint8Array]>((r) => s.once("data", (d) => r([d])));
        assert.equal(dec.decode(chunk), "over tls");
        s.destroy();
      });
    } finally {
      echo.close();
    }
  },
});

Deno.test({
  name: "ws/wss: forward+ws and forward+wss channels, and relay+wss://:A/:target (seed two-layer forward)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [ws, wss, rw, b1, b2, b3] = [
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ];
    try {
      await withGost([
        [[
          "-L",
          `ws://${L}:${ws}/${L}:${echo.port}`,
          "-L",
          `wss://${L}:${wss}/${L}:${echo.port}`,
          "-L",
          `relay+wss://${L}:${rw}/${L}:${echo.port}`,
        ], 3],
        [["-L", `tcp://${L}:${b1}`, "-F", `forward+ws://${L}:${ws}`], 1],
        [["-L", `tcp://${L}:${b2}`, "-F", `forward+wss://${L}:${wss}`], 1],
        [["-L", `tcp://${L}:${b3}`, "-F", `relay+wss://${L}:${rw}`], 1],
      ], async () => {
        await assertEcho(b1, 1 << 20, 1);
        await assertEcho(b2, 1 << 20, 2);
        await assertEcho(b3, 1 << 20, 3);
        // Several at once over the same channel type.
        await Promise.all([1, 2, 3, 4].map((i) => assertEcho(b3, 256 * 1024, 10 + i)));
      });
    } finally {
      echo.close();
    }
  },
});

/**
 * Runs `count` round trips of `size` bytes through `port`, `parallel` at a time; each client
 * half-closes after sending and must still get every byte back. Returns one line per short
 * or corrupted answer.
 */
async function echoMany(port: number, count: number, parallel: number, size: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      const i = next++;
      const data = randomBytes(size, 100 + i);
      const got = await tcpRoundTrip(port, data).catch((err) => {
        failures.push(`#${i}: ${err}`);
        return null;
      });
      if (!got) continue;
      if (got.length !== data.length) failures.push(`#${i}: ${got.length} of ${data.length} bytes`);
      else if (await sha256(got) !== await sha256(data)) failures.push(`#${i}: corrupted`);
    }
  }));
  return failures;
}

Deno.test({
  name:
    "ws/wss: many concurrent half-closed round trips through relay+ws, forward+wss, forward+ws, relay+wss lose nothing",
  ...opts,
  fn: async () => {
    // The side that finishes first used to close its socket while the peer's TLS close_notify
    // (sent after the WebSocket Close frame) was still unread, so the kernel sent a reset and
    // threw away the answer's tail: short data with no error, a few percent of connections.
    const echo = tcpEchoServer();
    const [ws, wss, rws, rwss, c1, c2, c3, c4] = Array.from({ length: 8 }, () => freePort());
    const target = `${L}:${echo.port}`;
    try {
      await withGost([
        [[
          "-L",
          `ws://${L}:${ws}/${target}`,
          "-L",
          `wss://${L}:${wss}/${target}`,
          "-L",
          `relay+ws://${L}:${rws}/${target}`,
          "-L",
          `relay+wss://${L}:${rwss}/${target}`,
        ], 4],
        [["-L", `tcp://${L}:${c1}`, "-F", `relay+ws://${L}:${rws}`], 1],
        [["-L", `tcp://${L}:${c2}`, "-F", `forward+wss://${L}:${wss}`], 1],
        [["-L", `tcp://${L}:${c3}`, "-F", `forward+ws://${L}:${ws}`], 1],
        [["-L", `tcp://${L}:${c4}`, "-F", `relay+wss://${L}:${rwss}`], 1],
      ], async () => {
        const paths = { "relay+ws": c1, "forward+wss": c2, "forward+ws": c3, "relay+wss": c4 };
        // One path at a time: a busy server finishes later, when the peer's trailer arrived.
        const results: string[][] = [];
        for (const [name, port] of Object.entries(paths)) {
          results.push((await echoMany(port, 60, 4, 256 * 1024)).map((f) => `${name} ${f}`));
        }
        const failures = results.flat();
        assert.deepEqual(
          failures,
          [],
          `${failures.length} of 240 round trips failed:\n${failures.join("\n")}`,
        );
      });
    } finally {
      echo.close();
    }
  },
});

Deno.test({
  name: "relay+wss with auth behind an http proxy (seed example); wrong credentials are refused",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [rw, hp, bad] = [freePort(), freePort(), freePort()];
    try {
      await withGost([
        [["-L", `relay+wss://gost:gost@${L}:${rw}`], 1],
        [["-L", `http://${L}:${hp}`, "-F", `relay+wss://gost:gost@${L}:${rw}`], 1],
        [["-L", `http://${L}:${bad}`, "-F", `relay+wss://gost:wrong@${L}:${rw}`], 1],
      ], async () => {
        const c = await httpConnect(hp, `${L}:${echo.port}`);
        assert.equal(
          await echoOver(c, "through http then relay over wss"),
          "through http then relay over wss",
        );
        c.close();
        // Like gost, the relay connector does not wait for the server's answer before the http
        // proxy says 200: wrong credentials show as a tunnel that closes without echoing.
        const refused = await httpConnect(bad, `${L}:${echo.port}`).then(
          async (b) => {
            const got = await echoOver(b, "must not come back").catch(() => "");
            b.close();
            return got === "";
          },
          () => true,
        );
        assert.ok(refused, "wrong relay credentials must not reach the target");
      });
    } finally {
      echo.close();
    }
  },
});

Deno.test({
  name: "dialers inside a tunnel: -F relay://… -F relay+wss://… and -F socks5://… -F forward+tls://…",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [r1, rw, s5, t, e1, e2] = [freePort(), freePort(), freePort(), freePort(), freePort(), freePort()];
    try {
      await withGost([
        [[
          "-L",
          `relay://${L}:${r1}`,
          "-L",
          `relay+wss://${L}:${rw}`,
          "-L",
          `socks5://${L}:${s5}`,
          "-L",
          `tls://${L}:${t}/${L}:${echo.port}`,
        ], 4],
        [[
          "-L",
          `tcp://${L}:${e1}/${L}:${echo.port}`,
          "-F",
          `relay://${L}:${r1}`,
          "-F",
          `relay+wss://${L}:${rw}`,
        ], 1],
        [["-L", `tcp://${L}:${e2}`, "-F", `socks5://${L}:${s5}`, "-F", `forward+tls://${L}:${t}`], 1],
      ], async ([server]) => {
        await assertEcho(e1, 1 << 20, 21);
        await assertEcho(e2, 1 << 20, 22);
        // The wss and tls ports saw connections that came from the relay/socks5 services, not from
        // the clients: the TLS and WebSocket handshakes ran inside the first hop's tunnel.
        assert.match(server.stderr(), /"listener":"wss"[^\n]*"inputBytes":[1-9]/);
      });
    } finally {
      echo.close();
    }
  },
});

Deno.test({
  name: "equivalence: tls://:A/:P -L http://:P behaves as https://:A (same CONNECT answers)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [a, p, h, ea, eh] = [freePort(), freePort(), freePort(), freePort(), freePort()];
    try {
      await withGost([
        [["-L", `tls://${L}:${a}/${L}:${p}`, "-L", `http://u:p@${L}:${p}`, "-L", `https://u:p@${L}:${h}`], 3],
        // -F https://… is http over tls: the same client reaches both.
        [["-L", `tcp://${L}:${ea}/${L}:${echo.port}`, "-F", `https://u:p@${L}:${a}`], 1],
        [["-L", `tcp://${L}:${eh}/${L}:${echo.port}`, "-F", `https://u:p@${L}:${h}`], 1],
      ], async () => {
        await assertEcho(ea, 512 * 1024, 31);
        await assertEcho(eh, 512 * 1024, 31);
        // Without credentials both answer 407 the same way.
        const answers: string[] = [];
        for (const port of [a, h]) {
          const s = tls.connect({ host: L, port, rejectUnauthorized: false });
          await new Promise((r, j) => s.once("secureConnect", r).once("error", j));
          s.write(`CONNECT ${L}:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
          const [d] = await new Promise<[Uint8Array]>((r) => s.once("data", (x) => r([x])));
          answers.push(dec.decode(d).split("\r\n")[0]);
          s.destroy();
        }
        assert.equal(answers[0], answers[1]);
        assert.match(answers[0], /^HTTP\/1\.[01] 407/);
      });
    } finally {
      echo.close();
    }
  },
});

/** Reads until the peer closes; resolves with what came and how long it took. */
async function untilClosed(c: Deno.Conn): Promise<{ text: string; ms: number }> {
  const t0 = performance.now();
  let text = "";
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
  } catch {
    // reset: closed as well
  }
  c.close();
  return { text, ms: performance.now() - t0 };
}

Deno.test({
  name: "bad input: plain text on tls, TLS on ws, no key, wrong path, stalls — each closed and logged",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [t, w, ew] = [freePort(), freePort(), freePort()];
    try {
      await withGost([
        [[
          "-L",
          `tls://${L}:${t}/${L}:${echo.port}?handshakeTimeout=1s`,
          "-L",
          `ws://${L}:${w}/${L}:${echo.port}?handshakeTimeout=1s`,
        ], 2],
        [["-L", `tcp://${L}:${ew}`, "-F", `forward+ws://${L}:${w}`], 1],
      ], async ([server]) => {
        // A good connection stays up across all the bad ones.
        const good = await Deno.connect({ hostname: L, port: ew });
        assert.equal(await echoOver(good, "before"), "before");

        const plain = await Deno.connect({ hostname: L, port: t });
        await plain.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        const r1 = await untilClosed(plain);
        assert.ok(r1.ms < 3000, `plain text on tls closed after ${r1.ms} ms`);

        const hello = tls.connect({ host: L, port: w, rejectUnauthorized: false });
        const tlsFailed = await new Promise<boolean>((r) => {
          hello.once("error", () => r(true)).once("secureConnect", () => r(false)).once(
            "close",
            () => r(true),
          );
        });
        hello.destroy();
        assert.ok(tlsFailed, "a TLS client on the ws port must fail");

        const noKey = await Deno.connect({ hostname: L, port: w });
        await noKey.write(
          enc.encode(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
          ),
        );
        const r3 = await untilClosed(noKey);
        assert.match(r3.text, /^HTTP\/1\.1 400 /);

        const wrongPath = await Deno.connect({ hostname: L, port: w });
        await wrongPath.write(enc.encode("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
        const r4 = await untilClosed(wrongPath);
        assert.match(r4.text, /^HTTP\/1\.1 404 /);

        for (const port of [t, w]) {
          const stall = await Deno.connect({ hostname: L, port });
          await stall.write(enc.encode(port === t ? "\x16\x03\x01" : "GET /ws HTTP/1.1\r\n"));
          const r5 = await untilClosed(stall);
          assert.ok(r5.ms > 700 && r5.ms < 3000, `stalled handshake closed after ${r5.ms} ms`);
        }

        assert.equal(await echoOver(good, "after"), "after");
        good.close();
        const log = server.stderr();
        assert.match(log, /tls handshake with 127\.0\.0\.1:\d+ failed/);
        assert.match(
          log,
          /ws handshake with [^"]+ failed: websocket upgrade: Sec-WebSocket-Key header missing/,
        );
        assert.match(log, /ws handshake with [^ ]+ failed: websocket upgrade: path \\?"\/nope\\?" not found/);
        assert.match(log, /handshake timed out after 1000 ms/);
      });
    } finally {
      echo.close();
    }
  },
});
