/**
 * The relay handler answers byte for byte like gost 3.2.6 (its relay server
 * captures), driven by a raw client over loopback.
 */
import assert from "node:assert/strict";
import { hex, recorder, toHex } from "../../tests/_recorder.ts";
import { freePort, tcpEchoServer, udpEchoServer } from "../../tests/_helpers.ts";
import { startConfig, svc } from "../../tests/_runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const AUTH = "01000a04757365720470617373"; // UserAuth user/pass
const addr = (port: number) => "020007017f000001" + port.toString(16).padStart(4, "0");
const len = (features: string) => (features.length / 2).toString(16).padStart(4, "0");

async function talk(port: number, send: string, want: number, ms = 1500): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(hex(send));
  const out: number[] = [];
  const buf = new Uint8Array(4096);
  const end = Date.now() + ms;
  while (out.length < want && Date.now() < end) {
    const n = await Promise.race([c.read(buf), new Promise<"t">((r) => setTimeout(() => r("t"), 100))]);
    if (n === "t") continue;
    if (n === null) break;
    out.push(...buf.subarray(0, n));
  }
  c.close();
  return toHex(Uint8Array.from(out));
}

Deno.test({
  name: "relay handler: responses match gost 3.2.6 (OK held for the first upstream bytes, refusals, UDP)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [p, pn] = [freePort(), freePort()];
    const run = await startConfig({
      services: [
        svc(`127.0.0.1:${p}`, "relay", { auth: { username: "user", password: "pass" } }),
        svc(`127.0.0.1:${pn}`, "relay", { metadata: { nodelay: true } }),
      ],
    });
    try {
      const f = AUTH + addr(echo.port);
      // relay-server-connect-auth-with-data
      assert.equal(await talk(p, "0101" + len(f) + f + "68656c6c6f", 9), "0100000068656c6c6f");
      // relay-server-connect-cmd0
      assert.equal(await talk(p, "0100" + len(f) + f + "68656c6c6f", 9), "0100000068656c6c6f");
      // relay-server-connect-noauth / wrong-auth
      assert.equal(await talk(p, "0101000a" + addr(echo.port) + "68656c6c6f", 9), "01020000");
      const wrong = "01000b04757365720577726f6e67" + addr(echo.port);
      assert.equal(await talk(p, "0101" + len(wrong) + wrong, 9), "01020000");
      // relay-server-connect-closed-port
      const closed = AUTH + addr(freePort());
      assert.equal(await talk(p, "0101" + len(closed) + closed, 9), "01070000");
      // relay-server-connect-no-addr, relay-server-cmd-associate
      assert.equal(await talk(p, "0101000d" + AUTH, 9), "01010000");
      assert.equal(await talk(p, "0103" + len(f) + f, 9), "01010000");
      // relay-server-bind-disabled
      const bind = AUTH + "0400020000" + "020007017f0000010000";
      assert.equal(await talk(p, "0102" + len(bind) + bind, 9), "01030000");
      // relay-server-connect-domain
      const dom = AUTH + "02000d03096c6f63616c686f7374" + echo.port.toString(16).padStart(4, "0");
      assert.equal(await talk(p, "0101" + len(dom) + dom + "68656c6c6f", 9), "0100000068656c6c6f");
      // relay-server-connect-udp: response coalesced with the first reply datagram
      const u = "0400020001" + AUTH + addr(uecho.port);
      assert.equal(
        await talk(p, "0181" + len(u) + u + "000568656c6c6f", 16),
        "01000000000a6563686f3a68656c6c6f",
      );
      // relay-server-nodelay-true-header-only: OK alone right after the dial
      assert.equal(await talk(pn, "0101000a" + addr(echo.port), 4), "01000000");
      // Unlike gost (relay-server-connect-silent-upstream: nothing until the target speaks), a
      // request that comes alone gets its OK at once with nodelay=false too: the client may be
      // waiting for it before it sends (gost's client with nodelay=true).
      assert.equal(await talk(p, "0101" + len(f) + f, 4, 500), "01000000");
      const uh = "0400020001" + AUTH + addr(uecho.port);
      assert.equal(await talk(p, "0181" + len(uh) + uh, 4, 500), "01000000");
    } finally {
      await run.close();
      echo.close();
      uecho.close();
    }
  },
});

Deno.test({
  name:
    "relay handler BIND: OK + Addr, then smux v1 SYN on stream 3 and a relay response naming the peer (relay-server-bind-tcp)",
  ...opts,
  fn: async () => {
    const p = freePort();
    const run = await startConfig({
      services: [svc(`127.0.0.1:${p}`, "relay", { metadata: { bind: true } })],
    });
    const rec = recorder();
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: p });
      await c.write(hex("0102000f" + "0400020000" + "020007017f0000010000"));
      const buf = new Uint8Array(4096);
      const n = (await c.read(buf))!;
      const resp = toHex(buf.subarray(0, n));
      assert.match(resp, /^0100000a020007017f000001[0-9a-f]{4}$/);
      const bound = parseInt(resp.slice(-4), 16);
      const peer = await Deno.connect({ hostname: "127.0.0.1", port: bound });
      const peerPort = (peer.localAddr as Deno.NetAddr).port.toString(16).padStart(4, "0");
      let got = "";
      while (got.length < (8 + 8 + 14) * 2) got += toHex(buf.subarray(0, (await c.read(buf))!));
      assert.equal(got.slice(0, 16), "0100000003000000"); // ver 1, SYN, len 0, stream 3
      assert.equal(got.slice(16, 32), "01020e0003000000"); // PSH, 14 bytes
      assert.equal(got.slice(32, 60), "0100000a020007017f000001" + peerPort);
      peer.close();
      c.close();
    } finally {
      rec.close();
      await run.close();
    }
  },
});
