/**
 * The multiplexed channels mtcp, mtls, mws, mwss: bytes against real gost 3.2.6's captures
 * (testdata/mux_tunnels.json), and the real CLI end to end — many streams over one session,
 * a session dropped and re-established, 10 MiB checked, http/socks5/relay over each channel.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { concat } from "../../src/core/bytes.ts";
import { Cmd, HEADER_SIZE, parseHeader, parseUpd } from "../../src/protocol/smux/frame.ts";
import { parseFrameHeader } from "../../src/protocol/websocket/frame.ts";
import { acceptKey } from "../../src/protocol/websocket/handshake.ts";
import {
  checkAsSecondHop,
  checkUdpOver,
  countingTee,
  freePort,
  hex,
  randomBytes,
  sha256,
  startGost,
  streamRoundTrip,
  tcpEchoServer,
  toHex,
} from "../_helpers.ts";

interface Event {
  conn: string;
  dir?: string;
  hex?: string;
  event?: string;
}
const capture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/mux_tunnels.json", import.meta.url)),
) as { vectors: { id: string; events: Event[] }[] };
const vector = (id: string) => capture.vectors.find((v) => v.id === id)!;

/** The captured target 127.0.0.1:18314 in a relay request, as bytes of its address feature. */
const CAPTURED_TARGET = "7f000001478a";

interface Frame {
  version: number;
  cmd: number;
  streamId: number;
  payload: string;
}

/** Reads smux frames from `bytes` (whole frames only). */
function frames(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off + HEADER_SIZE <= bytes.length) {
    const h = parseHeader(bytes, off);
    if (off + HEADER_SIZE + h.length > bytes.length) break;
    const payload = bytes.subarray(off + HEADER_SIZE, off + HEADER_SIZE + h.length);
    out.push({ version: h.version, cmd: h.cmd, streamId: h.streamId, payload: toHex(payload) });
    off += HEADER_SIZE + h.length;
  }
  return out;
}

/** Reads from `conn` until `done(bytes)` or EOF or `ms`; returns everything read and whether EOF came. */
async function readUntil(
  conn: Deno.Conn,
  done: (b: Uint8Array) => boolean,
  ms = 3000,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  let bytes = new Uint8Array(0);
  const buf = new Uint8Array(65536);
  const until = Date.now() + ms;
  while (!done(bytes) && Date.now() < until) {
    const timer = setTimeout(() => conn.close(), until - Date.now());
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null;
    } finally {
      clearTimeout(timer);
    }
    if (n === null) return { bytes, eof: true };
    bytes = concat([bytes, buf.subarray(0, n)]);
  }
  return { bytes, eof: false };
}

/** A TCP server that answers "world\n" to "hello\n", as the capture's upstream did. */
function worldServer(): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) {
      (async () => {
        const buf = new Uint8Array(64);
        try {
          while ((await c.read(buf)) !== null) await c.write(new TextEncoder().encode("world\n"));
        } catch { /* gone */ }
        c.close();
      })();
    }
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

const portHex = (port: number) => port.toString(16).padStart(4, "0");

Deno.test("mtcp server: gost's smux v1 SYN is refused at once; its v2 client bytes get gost's answers", async () => {
  const upstream = worldServer();
  const port = freePort();
  const g = await startGost(["-L", `relay+mtcp://127.0.0.1:${port}`]);
  try {
    const events = vector("mtcp-server-smux-version").events;
    const sent = (conn: string) => events.filter((e) => e.conn === conn && e.dir === "client->gost");

    const v1 = await Deno.connect({ hostname: "127.0.0.1", port });
    await v1.write(hex(sent("client0")[0].hex!));
    const r1 = await readUntil(v1, () => false, 2000);
    ok(r1.eof, "a v1 frame to the v2 mtcp server ends the connection");
    equal(r1.bytes.length, 0);
    v1.close();

    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const [syn, psh, fin] = sent("client1").map((e) =>
      hex(e.hex!.replace(CAPTURED_TARGET, `7f000001${portHex(upstream.port)}`))
    );
    await c.write(syn);
    await c.write(psh);
    const answer = await readUntil(c, (b) => frames(b).some((f) => f.cmd === Cmd.PSH));
    const got = frames(answer.bytes);
    // gost answers UPD (what its reader consumed so far, window 65536), then PSH OK + "world\n".
    const upd = got.filter((f) => f.cmd === Cmd.UPD);
    ok(upd.length >= 1, `a v2 window update: ${JSON.stringify(got)}`);
    for (const u of upd) {
      const { consumed, window } = parseUpd(hex(u.payload));
      ok(consumed > 0 && consumed <= 20, `consumed ${consumed}`);
      equal(window, 65536);
      equal(u.streamId, 3);
    }
    deepStrictEqual(got.find((f) => f.cmd === Cmd.PSH), {
      version: 2,
      cmd: Cmd.PSH,
      streamId: 3,
      payload: "01000000776f726c640a",
    });
    await c.write(fin);
    const closing = await readUntil(c, (b) => frames(b).some((f) => f.cmd === Cmd.FIN));
    deepStrictEqual(frames(closing.bytes).filter((f) => f.cmd === Cmd.FIN), [
      { version: 2, cmd: Cmd.FIN, streamId: 3, payload: "" },
    ]);
    c.close();
  } finally {
    await g.stop();
    upstream.close();
  }
});

/**
 * A recorder in place of the mux server: accepts one TCP connection and returns what the client
 * sent until `enough`. With `ws`, it answers the upgrade and unmasks the client's messages.
 */
async function recordClient(
  port: number,
  opts: { ws: boolean; enough: (smux: Uint8Array) => boolean },
): Promise<{ request: string; smux: Uint8Array; masked: boolean[] }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  const c = await l.accept();
  l.close();
  let request = "";
  let rest: Uint8Array = new Uint8Array(0);
  if (opts.ws) {
    const head = await readUntil(c, (b) => new TextDecoder().decode(b).includes("\r\n\r\n"));
    const text = new TextDecoder().decode(head.bytes);
    const end = text.indexOf("\r\n\r\n") + 4;
    request = text.slice(0, end);
    rest = head.bytes.subarray(end);
    const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)![1];
    await c.write(new TextEncoder().encode(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptKey(
        key,
      )}\r\n\r\n`,
    ));
  }
  const masked: boolean[] = [];
  const unwrap = (b: Uint8Array): Uint8Array => {
    if (!opts.ws) return b;
    const parts: number[] = [];
    masked.length = 0;
    let off = 0;
    while (off < b.length) {
      const h = parseFrameHeader(b.subarray(off));
      if (!h || off + h.headerLength + h.length > b.length) break;
      masked.push(h.mask !== null);
      for (let i = 0; i < h.length; i++) {
        parts.push(b[off + h.headerLength + i] ^ (h.mask ? h.mask[i % 4] : 0));
      }
      off += h.headerLength + h.length;
    }
    return new Uint8Array(parts);
  };
  const body = await readUntil(c, (b) => opts.enough(unwrap(concat([rest, b]))));
  c.close();
  return { request, smux: unwrap(concat([rest, body.bytes])), masked };
}

/** The relay request and "hello\n" carried on stream 3, across however many PSH frames. */
const streamData = (smux: Uint8Array, id = 3) =>
  frames(smux).filter((f) => f.cmd === Cmd.PSH && f.streamId === id).map((f) => f.payload).join("");

for (const [channel, version, ws] of [["mtcp", 2, false], ["mws", 1, true]] as const) {
  Deno.test(`${channel} dialer: the frames gost's client sends (smux v${version}, first stream 3, relay inside)`, async () => {
    const [muxPort, fwdPort] = [freePort(), freePort()];
    const target = `127.0.0.1:${freePort()}`;
    const recording = recordClient(muxPort, {
      ws,
      enough: (b) => streamData(b).endsWith("68656c6c6f0a"),
    });
    const g = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwdPort}/${target}`,
      "-F",
      `relay+${channel}://127.0.0.1:${muxPort}`,
    ]);
    try {
      const app = await Deno.connect({ hostname: "127.0.0.1", port: fwdPort });
      await app.write(new TextEncoder().encode("hello\n"));
      const rec = await recording;
      app.close();
      const got = frames(rec.smux);
      // gost: SYN on stream 3 first, then the relay request (CONNECT target) and the data.
      deepStrictEqual(got[0], { version, cmd: Cmd.SYN, streamId: 3, payload: "" });
      const [host, port] = target.split(":");
      const addr = `${host.split(".").map((n) => Number(n).toString(16).padStart(2, "0")).join("")}${
        portHex(Number(port))
      }`;
      equal(streamData(rec.smux), `0101000a02000701${addr}68656c6c6f0a`);
      ok(got.every((f) => f.version === version));
      if (ws) {
        // gost's mws request line, Host with the port, and every client message masked.
        const gostRequest = vector("mws-relay-pair-two-streams").events.find((e) => e.dir)!.hex!;
        const gostLines = new TextDecoder().decode(hex(gostRequest)).split("\r\n");
        equal(rec.request.split("\r\n")[0], gostLines[0]);
        ok(rec.request.includes(`Host: 127.0.0.1:${muxPort}\r\n`), rec.request);
        ok(rec.masked.length > 0 && rec.masked.every((m) => m));
      }
    } finally {
      await g.stop();
    }
  });
}

for (const channel of ["mtcp", "mtls", "mws", "mwss"]) {
  Deno.test(`relay+${channel}: 100 concurrent streams share one session; a cut session is replaced`, async () => {
    const echo = tcpEchoServer();
    const [muxPort, fwdPort] = [freePort(), freePort()];
    const server = await startGost(["-L", `relay+${channel}://127.0.0.1:${muxPort}`]);
    const tee = countingTee(muxPort);
    const client = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
      "-F",
      `relay+${channel}://127.0.0.1:${tee.port}`,
    ]);
    try {
      const payloads = Array.from({ length: 100 }, (_, i) => randomBytes(2048 + i * 97, i + 1));
      const back = await Promise.all(payloads.map((p) => streamRoundTrip(fwdPort, p)));
      back.forEach((b, i) => deepStrictEqual(b, payloads[i], `stream ${i}`));
      equal(tee.accepted(), 1, "one connection carries every stream");

      tee.cut();
      // The dialer notices the dead session and opens a new one for the next connection.
      let again: Uint8Array | undefined;
      for (let i = 0; i < 20 && !again; i++) {
        try {
          again = await streamRoundTrip(fwdPort, payloads[0]);
          if (again.length !== payloads[0].length) again = undefined;
        } catch { /* the first dial may still meet the dead session */ }
        if (!again) await new Promise((r) => setTimeout(r, 100));
      }
      deepStrictEqual(again, payloads[0]);
      equal(tee.accepted(), 2, "a new session after the cut");

      const big = randomBytes(10 << 20, 99);
      const bigBack = await streamRoundTrip(fwdPort, big);
      equal(bigBack.length, big.length);
      const firstDiff = bigBack.findIndex((b, i) => b !== big[i]);
      equal(firstDiff, -1, `first differing byte at ${firstDiff}`);
      equal(await sha256(bigBack), await sha256(big));
    } finally {
      await client.stop();
      await server.stop();
      tee.close();
      echo.close();
    }
  });
}

for (
  const [handler, channel] of [["http", "mws"], ["socks5", "mtls"], ["http", "mtcp"], ["socks5", "mwss"]]
) {
  Deno.test(`${handler}+${channel}: a proxy protocol over the channel`, async () => {
    const echo = tcpEchoServer();
    const [muxPort, fwdPort] = [freePort(), freePort()];
    const server = await startGost(["-L", `${handler}+${channel}://127.0.0.1:${muxPort}`]);
    const client = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
      "-F",
      `${handler}+${channel}://127.0.0.1:${muxPort}`,
    ]);
    try {
      const data = randomBytes(300_000, 5);
      deepStrictEqual(await streamRoundTrip(fwdPort, data), data);
    } finally {
      await client.stop();
      await server.stop();
      echo.close();
    }
  });
}

Deno.test("udp over relay+mwss: datagrams ride a mux stream and keep their boundaries", () =>
  checkUdpOver("relay+mwss", [1, 512, 1400]));

Deno.test("mws as the second hop: its session runs inside the relay stream of the first", () =>
  checkAsSecondHop("relay+mws"));
