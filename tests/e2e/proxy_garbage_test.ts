/**
 * Bad input to every proxy handler: garbage, truncated and oversized handshakes, wrong
 * versions and unknown commands get the protocol's refusal (where it has one) and a close
 * within readTimeout; the process keeps serving other connections.
 */
import assert from "node:assert/strict";
import { freePort, hex, startGost, tcpEchoServer } from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const enc = new TextEncoder();

/** Sends `data`, then reads until EOF; returns what came back and how long it took. */
async function exchange(
  port: number,
  data: Uint8Array,
  ms = 4000,
): Promise<{ reply: Uint8Array; closed: boolean; elapsed: number }> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = Date.now();
  try {
    if (data.length) await c.write(data).catch(() => 0);
    const chunks: number[] = [];
    const buf = new Uint8Array(4096);
    let closed = false;
    const timer = setTimeout(() => c.close(), ms);
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) {
          closed = true;
          break;
        }
        chunks.push(...buf.subarray(0, n));
      }
    } catch {
      closed = Date.now() - started < ms; // reset by the server counts as closed
    } finally {
      clearTimeout(timer);
    }
    return { reply: Uint8Array.from(chunks), closed, elapsed: Date.now() - started };
  } finally {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

Deno.test({
  name: "garbage, truncated, oversized and stalled handshakes: refusal + close, other connections unaffected",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [hp, s4, s5, rp, ap] = [freePort(), freePort(), freePort(), freePort(), freePort()];
    const q = "?readTimeout=1s";
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${hp}${q}`,
      "-L",
      `socks4://127.0.0.1:${s4}${q}`,
      "-L",
      `socks5://127.0.0.1:${s5}${q}`,
      "-L",
      `relay://127.0.0.1:${rp}${q}`,
      "-L",
      `auto://127.0.0.1:${ap}${q}`,
    ], 5);
    try {
      const cases: [string, number, Uint8Array, (r: Uint8Array) => void][] = [
        [
          "http garbage",
          hp,
          enc.encode("\x01\x02garbage\r\n\r\n"),
          (r) => assert.match(new TextDecoder().decode(r), /^HTTP\/1\.1 400/),
        ],
        [
          "http oversized head",
          hp,
          enc.encode("GET http://x/ HTTP/1.1\r\nX: " + "a".repeat(70_000)),
          (r) => assert.match(new TextDecoder().decode(r), /^HTTP\/1\.1 431/),
        ],
        [
          "http wrong version",
          hp,
          enc.encode("GET http://x/ HTTP/2.0\r\n\r\n"),
          (r) => assert.match(new TextDecoder().decode(r), /^HTTP\/1\.1 505/),
        ],
        ["http truncated (stall)", hp, enc.encode("GET http://x/ HTT"), (r) => assert.equal(r.length, 0)],
        ["socks4 wrong version", s4, hex("05010050"), (r) => assert.equal(r[1], 91)],
        ["socks4 truncated (stall)", s4, hex("040100"), (r) => assert.equal(r.length, 0)],
        [
          "socks4 oversized user id",
          s4,
          hex("040100507f000001" + "61".repeat(1000)),
          (r) => assert.equal(r[1], 91),
        ],
        ["socks5 wrong version", s5, hex("0401"), (r) => assert.equal(r.length, 0)],
        ["socks5 stalled after greeting", s5, hex("050100"), (r) => assert.deepEqual(Array.from(r), [5, 0])],
        ["socks5 unknown command", s5, hex("050100" + "05990001000000000000"), (r) => assert.equal(r[3], 7)],
        ["socks5 unknown ATYP", s5, hex("050100" + "05010007000000000000"), (r) => assert.equal(r[3], 8)],
        ["relay bad version", rp, hex("02010000"), (r) => assert.deepEqual(Array.from(r), [1, 1, 0, 0])],
        [
          "relay malformed features",
          rp,
          hex("0101000302ffff"),
          (r) => assert.deepEqual(Array.from(r), [1, 1, 0, 0]),
        ],
        ["relay truncated (stall)", rp, hex("010100"), (r) => assert.equal(r.length, 0)],
        [
          "relay unknown command",
          rp,
          hex("0109000a020007017f0000010050"),
          (r) => assert.deepEqual(Array.from(r), [1, 1, 0, 0]),
        ],
        [
          "relay CONNECT without address",
          rp,
          hex("01010000"),
          (r) => assert.deepEqual(Array.from(r), [1, 1, 0, 0]),
        ],
        [
          "auto garbage",
          ap,
          enc.encode("\xff\xfe\r\n\r\n"),
          (r) => assert.match(new TextDecoder().decode(r), /^HTTP\/1\.1 400/),
        ],
        ["auto silent (stall)", ap, new Uint8Array(0), (r) => assert.equal(r.length, 0)],
      ];
      await Promise.all(cases.map(async ([name, port, data, check]) => {
        const { reply, closed, elapsed } = await exchange(port, data);
        assert.ok(closed, `${name}: not closed`);
        assert.ok(elapsed < 3000, `${name}: closed after ${elapsed} ms`);
        check(reply);
      }));
      // Still serving: a valid SOCKS5 CONNECT through the auto port.
      const c = await Deno.connect({ hostname: "127.0.0.1", port: ap });
      const p = echo.port.toString(16).padStart(4, "0");
      await c.write(hex("050100" + "050100017f000001" + p + "6869"));
      const buf = new Uint8Array(14);
      let got = 0;
      while (got < 14) got += (await c.read(buf.subarray(got)))!;
      assert.equal(new TextDecoder().decode(buf.subarray(12)), "hi");
      c.close();
    } finally {
      await g.stop();
      echo.close();
    }
  },
});
