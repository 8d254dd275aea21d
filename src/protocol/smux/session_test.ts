import assert from "node:assert/strict";
import { concat } from "../../core/bytes.ts";
import { duplexPair } from "../../core/pipe.ts";
import type { Duplex } from "../../core/duplex.ts";
import { SmuxSession } from "./session.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads exactly n bytes from a raw duplex's direct path. */
async function readAll(d: Duplex): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of d.readable) parts.push(c);
  return concat(parts);
}

async function write(d: Duplex, data: Uint8Array) {
  const w = d.writable.getWriter();
  await w.write(data);
  w.releaseLock();
}

Deno.test("smux session: a client's first stream is id 3 and its frames match gost's bytes", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: true, keepAliveDisabled: true });
  const st = await s.openStream();
  assert.equal(toHex(await readExactly(raw, 8)), "0100000003000000"); // SYN 3
  await write(st, text("hello"));
  assert.equal(toHex(await readExactly(raw, 13)), "010205000300000068656c6c6f");
  await st.writable.close();
  assert.equal(toHex(await readExactly(raw, 8)), "0101000003000000"); // FIN 3
  const st2 = await s.openStream();
  assert.equal(toHex(await readExactly(raw, 8)), "0100000005000000"); // SYN 5
  st2.close();
  s.close();
  raw.close();
  await s.done;
});

Deno.test("smux session: a server's first stream is id 2", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true });
  await s.openStream();
  assert.equal(toHex(await readExactly(raw, 8)), "0100000002000000");
  s.close();
  raw.close();
});

Deno.test("smux session: serves the relay BIND capture from real gost (server side)", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true });
  // gost (smux client) sends SYN 3 + PSH(relay response) in one write, then PSH 'inbound-hello'.
  await raw.direct!.write(hex("010000000300000001020e00030000000100000a020007017f0000018fa2"));
  await raw.direct!.write(hex("01020d0003000000696e626f756e642d68656c6c6f"));
  const st = (await s.accept())!;
  assert.ok(st);
  const buf = new Uint8Array(64);
  let got = 0;
  while (got < 27) got += (await st.direct!.read(buf.subarray(got)))!;
  assert.equal(toHex(buf.subarray(0, 14)), "0100000a020007017f0000018fa2");
  assert.equal(str(buf.subarray(14, 27)), "inbound-hello");
  await st.direct!.write(text("reply"));
  assert.equal(toHex(await readExactly(raw, 13)), "01020500030000007265706c79");
  await raw.direct!.write(hex("0101000003000000")); // FIN 3
  assert.equal(await st.direct!.read(buf), null);
  await raw.direct!.write(hex("0103000000000000")); // NOP keeps the session
  assert.equal(s.closed, false);
  st.close();
  assert.equal(toHex(await readExactly(raw, 8)), "0101000003000000");
  assert.equal(s.streamCount, 0);
  s.close();
  raw.close();
});

for (const version of [1, 2] as const) {
  Deno.test(`smux session v${version}: echo over several concurrent streams`, async () => {
    const [a, b] = duplexPair();
    const client = new SmuxSession(a, { client: true, version, keepAliveDisabled: true });
    const server = new SmuxSession(b, { client: false, version, keepAliveDisabled: true });
    const serving = (async () => {
      for (;;) {
        const st = await server.accept();
        if (!st) return;
        st.readable.pipeTo(st.writable).catch(() => {});
      }
    })();
    const one = async (i: number) => {
      const st = await client.openStream();
      const data = new Uint8Array(100_000 + i * 777).map((_, k) => (k * 31 + i) & 0xff);
      const reading = readAll(st);
      const w = st.writable.getWriter();
      await w.write(data);
      await w.close();
      const back = await reading;
      assert.equal(back.length, data.length);
      assert.deepEqual(back, data);
      st.close();
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(one));
    client.close();
    await server.done;
    await serving;
    assert.equal(await server.accept(), null);
  });
}

// ---- a raw peer speaking frames by hand ----

import { Cmd, encodeFrame, encodeUpd, parseHeader } from "./frame.ts";
import { ChunkReader } from "../../core/chunk_reader.ts";

class RawPeer {
  reader: ChunkReader;
  constructor(readonly d: Duplex, readonly version = 1) {
    this.reader = new ChunkReader(d);
  }
  send(cmd: number, sid: number, payload?: Uint8Array) {
    return this.d.direct!.write(encodeFrame(this.version, cmd, sid, payload));
  }
  async frame(): Promise<{ cmd: number; sid: number; payload: Uint8Array } | null> {
    const h = await this.reader.read(8);
    if (!h) return null;
    const hdr = parseHeader(h);
    const payload = hdr.length ? await this.reader.readFull(hdr.length) : new Uint8Array(0);
    return { cmd: hdr.cmd, sid: hdr.streamId, payload };
  }
  /** The next frame that is not a NOP. */
  async next() {
    for (;;) {
      const f = await this.frame();
      if (!f || f.cmd !== Cmd.NOP) return f;
    }
  }
}

function rawSession(opts: Partial<ConstructorParameters<typeof SmuxSession>[1]> = {}) {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true, ...opts });
  const peer = new RawPeer(raw, opts.version ?? 1);
  const end = async () => {
    s.close();
    raw.close();
    await s.done;
  };
  return { s, peer, raw, end };
}

for (
  const [name, bytes, re] of [
    ["a bad version", "0200000001000000", /smux: frame version 2 on a version 1 session \(SYN, stream 1\)/],
    ["an unknown command", "0109000001000000", /smux: unknown command 9/],
    ["a SYN with a payload", "0100040001000000aabbccdd", /SYN frame with a 4-byte payload/],
    ["a frame cut short by EOF", "0102100001000000abcd", /closed by peer in the middle of a frame/],
  ] as const
) {
  Deno.test(`smux session: ${name} ends the session with an error naming it`, async () => {
    const { s, raw, end } = rawSession();
    await raw.direct!.write(hex("0100000001000000")); // a stream that is open when it happens
    const st = (await s.accept())!;
    await raw.direct!.write(hex(bytes));
    if (name.includes("EOF")) await raw.direct!.closeWrite();
    await s.done;
    assert.equal(s.closed, true);
    assert.match(s.error!.message, re);
    assert.equal(await s.accept(), null);
    await assert.rejects(() => st.direct!.read(new Uint8Array(10)), re);
    await assert.rejects(() => st.direct!.write(new Uint8Array(1)), /smux session closed/);
    await assert.rejects(() => s.openStream(), /smux session closed/);
    await end();
  });
}

Deno.test("smux session: the peer closing the connection ends the session", async () => {
  const { s, raw, end } = rawSession();
  raw.close();
  await s.done;
  assert.match(s.error!.message, /connection closed by peer/);
  await end();
});

Deno.test("smux session: close() ends streams cleanly and the connection", async () => {
  const { s, peer, raw, end } = rawSession();
  await peer.send(Cmd.SYN, 1);
  await peer.send(Cmd.PSH, 1, text("left"));
  const st = (await s.accept())!;
  const buf = new Uint8Array(16);
  assert.equal(await st.direct!.read(buf), 4);
  const pending = st.direct!.read(buf);
  s.close();
  assert.equal(await pending, null);
  assert.equal(s.error, undefined);
  assert.equal(await raw.direct!.read(buf), null); // the connection was closed
  await end();
});

Deno.test("smux session: sends NOP every keepAliveInterval", async () => {
  const { s, peer, end } = rawSession({
    keepAliveDisabled: false,
    keepAliveInterval: 30,
    keepAliveTimeout: 5000,
  });
  const t0 = performance.now();
  const f1 = await peer.frame();
  const f2 = await peer.frame();
  const ms = performance.now() - t0;
  assert.deepEqual([f1!.cmd, f1!.sid, f2!.cmd], [Cmd.NOP, 0, Cmd.NOP]);
  assert.ok(ms >= 50 && ms < 1000, `two NOPs took ${ms} ms`);
  assert.equal(s.closed, false);
  await end();
});

Deno.test("smux session: a silent peer is dropped after keepAliveTimeout, a talking one is not", async () => {
  const { s, peer, end } = rawSession({
    keepAliveDisabled: false,
    keepAliveInterval: 20,
    keepAliveTimeout: 80,
  });
  // Talk (NOPs) for 300 ms: the session must stay up.
  for (let i = 0; i < 15; i++) {
    await peer.send(Cmd.NOP, 0);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(s.closed, false);
  const t0 = performance.now();
  await s.done;
  const ms = performance.now() - t0;
  assert.match(s.error!.message, /keepalive timeout: nothing received from the peer for 80 ms/);
  assert.ok(ms < 400, `dropped after ${ms} ms`);
  await end();
});

Deno.test("smux session v1: an unread stream stops the session reading at maxReceiveBuffer", async () => {
  const { s, peer, raw, end } = rawSession({
    maxReceiveBuffer: 64 * 1024,
    maxStreamBuffer: 32 * 1024,
    keepAliveDisabled: false,
    keepAliveInterval: 20,
    keepAliveTimeout: 50,
  });
  await peer.send(Cmd.SYN, 1);
  const st = (await s.accept())!;
  // The peer pushes 2 MiB; nobody reads the stream. The pipe holds 256 KiB, so the writes
  // stall once the session stops reading.
  let written = 0;
  const frame = encodeFrame(1, Cmd.PSH, 1, new Uint8Array(16 * 1024).fill(7));
  const pushing = (async () => {
    for (let i = 0; i < 128; i++) {
      await raw.direct!.write(frame);
      written += 16 * 1024;
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  // Session buffer (64 KiB + one frame) + pipe (256 KiB + one write) + read-ahead (< 300 KiB).
  assert.ok(written < 700 * 1024, `peer could write ${written} bytes`);
  assert.equal(s.closed, false, "keepalive must not fire while the session itself stopped reading");
  // Reading drains everything in order.
  let got = 0;
  const buf = new Uint8Array(64 * 1024);
  while (got < 128 * 16 * 1024) {
    const n = (await st.direct!.read(buf))!;
    assert.equal(buf[n - 1], 7);
    got += n;
  }
  await pushing;
  await end();
});

Deno.test("smux session: extra SYNs beyond the accept backlog get a FIN", async () => {
  const { s, peer, end } = rawSession({ acceptBacklog: 2 });
  await peer.send(Cmd.SYN, 1);
  await peer.send(Cmd.SYN, 3);
  await peer.send(Cmd.SYN, 5);
  assert.deepEqual(await peer.next(), { cmd: Cmd.FIN, sid: 5, payload: new Uint8Array(0) });
  assert.equal(s.streamCount, 2);
  const a = (await s.accept())!;
  const b = (await s.accept())!;
  assert.ok(a && b);
  // Room again: a new SYN is taken.
  await peer.send(Cmd.SYN, 7);
  const c = (await s.accept())!;
  assert.ok(c);
  assert.equal(s.streamCount, 3);
  await end();
});

Deno.test("smux session: a peer flooding SYNs holds at most the backlog", async () => {
  const { s, peer, end } = rawSession({ acceptBacklog: 16 });
  const many = new Uint8Array(8 * 2000);
  for (let i = 0; i < 2000; i++) many.set(encodeFrame(1, Cmd.SYN, 2 * i + 1), 8 * i);
  await peer.d.direct!.write(many);
  let fins = 0;
  while (fins < 2000 - 16) if ((await peer.next())!.cmd === Cmd.FIN) fins++;
  assert.equal(s.streamCount, 16);
  assert.equal(s.closed, false);
  await end();
});

Deno.test("smux session: refusals to a peer that does not read are bounded", async () => {
  const [a, raw] = duplexPair({ capacity: 8192 });
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true, acceptBacklog: 4 });
  const syns = new Uint8Array(8 * 20000);
  for (let i = 0; i < 20000; i++) syns.set(encodeFrame(1, Cmd.SYN, 2 * i + 1), 8 * i);
  await raw.direct!.write(syns);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.closed, false);
  assert.equal(s.streamCount, 4);
  // Now read what was queued: far fewer FINs than refused SYNs.
  const peer = new RawPeer(raw);
  let fins = 0;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const f = await Promise.race([
      peer.frame(),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 200))),
    ]);
    clearTimeout(timer);
    if (!f) break;
    if (f.cmd === Cmd.FIN) fins++;
  }
  assert.ok(fins > 1000 && fins < 6000, `${fins} FINs queued for 19996 refusals`);
  s.close();
  raw.close();
});

Deno.test("smux session: SYN with this side's id parity is refused with FIN", async () => {
  const { s, peer, end } = rawSession(); // server: peer ids are odd
  await peer.send(Cmd.SYN, 2);
  assert.deepEqual(await peer.next(), { cmd: Cmd.FIN, sid: 2, payload: new Uint8Array(0) });
  assert.equal(s.streamCount, 0);
  await end();
});

Deno.test("smux session: data for unknown streams is dropped, the session goes on", async () => {
  const { s, peer, end } = rawSession({ maxReceiveBuffer: 1024, maxStreamBuffer: 1024 });
  for (let i = 0; i < 10; i++) await peer.send(Cmd.PSH, 9, new Uint8Array(1000));
  await peer.send(Cmd.FIN, 9);
  await peer.send(Cmd.SYN, 1);
  await peer.send(Cmd.PSH, 1, text("ok"));
  const st = (await s.accept())!;
  const buf = new Uint8Array(8);
  assert.equal(await st.direct!.read(buf), 2);
  await end();
});

Deno.test("smux session: closing one stream with unread data leaves the others running", async () => {
  const { s, peer, end } = rawSession({ maxReceiveBuffer: 8192, maxStreamBuffer: 4096 });
  await peer.send(Cmd.SYN, 1);
  await peer.send(Cmd.SYN, 3);
  const a = (await s.accept())!;
  const b = (await s.accept())!;
  await peer.send(Cmd.PSH, 1, new Uint8Array(6000)); // unread, holds most of the budget
  a.close();
  assert.deepEqual(await peer.next(), { cmd: Cmd.FIN, sid: 1, payload: new Uint8Array(0) });
  // The budget came back: b receives far more than maxReceiveBuffer in total.
  const buf = new Uint8Array(4096);
  for (let i = 0; i < 20; i++) {
    await peer.send(Cmd.PSH, 3, new Uint8Array(4000).fill(i));
    let got = 0;
    while (got < 4000) got += (await b.direct!.read(buf))!;
    assert.equal(buf[0], i);
  }
  await peer.send(Cmd.PSH, 1, text("late")); // to the closed stream: dropped
  await assert.rejects(() => a.direct!.write(text("x")), /write after close/);
  assert.equal(s.streamCount, 1);
  await end();
});

Deno.test("smux session: FIN after data: the reader gets the data, then end of stream", async () => {
  const { s, peer, end } = rawSession();
  const burst = new Uint8Array([
    ...encodeFrame(1, Cmd.SYN, 1),
    ...encodeFrame(1, Cmd.PSH, 1, text("abc")),
    ...encodeFrame(1, Cmd.PSH, 1, text("def")),
    ...encodeFrame(1, Cmd.FIN, 1),
  ]);
  await peer.d.direct!.write(burst);
  const st = (await s.accept())!;
  assert.equal(str(await readAll(st)), "abcdef");
  // Half-closed: this side can still answer, then its FIN ends the stream.
  const w = st.writable.getWriter();
  await w.write(text("back"));
  await w.close();
  assert.equal(str((await peer.next())!.payload), "back");
  assert.equal((await peer.next())!.cmd, Cmd.FIN);
  assert.equal(s.streamCount, 0);
  await assert.rejects(() => w.write(text("more")));
  await end();
});

Deno.test("smux session: a finished stream's id reopened by the peer is a new stream", async () => {
  const { s, peer, end } = rawSession();
  await peer.send(Cmd.SYN, 1);
  const old = (await s.accept())!;
  await peer.send(Cmd.FIN, 1);
  await old.direct!.closeWrite();
  assert.equal((await peer.next())!.cmd, Cmd.FIN);
  assert.equal(s.streamCount, 0);
  await peer.send(Cmd.SYN, 1);
  const again = (await s.accept())!;
  old.close(); // must not drop the new stream 1
  await peer.send(Cmd.PSH, 1, text("new"));
  const buf = new Uint8Array(8);
  assert.equal(await again.direct!.read(buf), 3);
  assert.equal(s.streamCount, 1);
  await end();
});

Deno.test("smux session v2: the writer keeps at most the peer's window in flight", async () => {
  const { s, peer, end } = rawSession({ version: 2, client: true });
  const st = await s.openStream();
  assert.equal((await peer.next())!.cmd, Cmd.SYN);
  const data = new Uint8Array(600_000).map((_, i) => i & 0xff);
  let done = false;
  const writing = st.direct!.write(data).then(() => (done = true));
  let got = 0;
  while (got < 262144) got += (await peer.next())!.payload.length;
  assert.equal(got, 262144); // smux's initial guess of the peer's window
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(done, false);
  // The peer consumed everything and offers 100000 more.
  await peer.send(Cmd.UPD, 3, encodeUpd(2, 3, 262144, 100000).subarray(8));
  while (got < 362144) got += (await peer.next())!.payload.length;
  assert.equal(got, 362144);
  await peer.send(Cmd.UPD, 3, encodeUpd(2, 3, 362144, 1 << 20).subarray(8));
  while (got < data.length) got += (await peer.next())!.payload.length;
  await writing;
  assert.equal(done, true);
  await end();
});

Deno.test("smux session v2: the reader reports consumption at the first read and every half window", async () => {
  const { s, peer, end } = rawSession({ version: 2, maxStreamBuffer: 8192 });
  await peer.send(Cmd.SYN, 1);
  const st = (await s.accept())!;
  await peer.send(Cmd.PSH, 1, new Uint8Array(1000));
  const buf = new Uint8Array(100_000);
  assert.equal(await st.direct!.read(buf), 1000);
  const upd1 = (await peer.next())!;
  assert.equal(upd1.cmd, Cmd.UPD);
  assert.equal(toHex(upd1.payload), "e8030000" + "00200000"); // consumed 1000, window 8192
  await peer.send(Cmd.PSH, 1, new Uint8Array(5000));
  assert.equal(await st.direct!.read(buf), 5000);
  const upd2 = (await peer.next())!;
  assert.equal(toHex(upd2.payload), "70170000" + "00200000"); // consumed 6000
  await end();
});

Deno.test("smux session v2: a peer claiming more consumed than sent fails the write", async () => {
  const { s, peer, end } = rawSession({ version: 2, client: true });
  const st = await s.openStream();
  await peer.next();
  const writing = st.direct!.write(new Uint8Array(300_000)); // waits for window after 256 KiB
  let got = 0;
  while (got < 262144) got += (await peer.next())!.payload.length;
  await peer.send(Cmd.UPD, 3, encodeUpd(2, 3, 999_999_999, 0).subarray(8));
  await assert.rejects(writing, /peer reported more consumed than was sent on stream 3/);
  await end();
});

Deno.test("smux session: option values are checked", () => {
  const [a, b] = duplexPair();
  const bad: [Partial<ConstructorParameters<typeof SmuxSession>[1]>, RegExp][] = [
    [{ version: 3 as 1 }, /unsupported protocol version 3/],
    [{ maxFrameSize: 70000 }, /maxFrameSize must be 1..65535/],
    [{ keepAliveInterval: 0 }, /keepAliveInterval must be positive/],
    [{ keepAliveInterval: 5000, keepAliveTimeout: 1000 }, /must not be shorter/],
    [{ maxStreamBuffer: 10 << 20 }, /maxStreamBuffer must be positive and at most maxReceiveBuffer/],
  ];
  for (const [o, re] of bad) assert.throws(() => new SmuxSession(a, { client: true, ...o }), re);
  a.close();
  b.close();
});

import { relay } from "../../core/relay.ts";
import { socketDuplex } from "../../core/socket.ts";
import { hex, readExactly, toHex } from "../../../tests/_helpers.ts";

Deno.test("smux session: relay() between accepted streams and TCP sockets, many at once", async () => {
  // A TCP echo server as the target.
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoing = (async () => {
    for await (const c of echo) {
      (async () => {
        const buf = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await c.read(buf);
            if (n === null) break;
            let o = 0;
            while (o < n) o += await c.write(buf.subarray(o, n));
          }
          await c.closeWrite();
        } catch { /* peer gone */ }
        c.close();
      })();
    }
  })();
  const [a, b] = duplexPair();
  const client = new SmuxSession(a, { client: true, keepAliveDisabled: true });
  const server = new SmuxSession(b, { client: false, keepAliveDisabled: true });
  const relays: Promise<unknown>[] = [];
  const serving = (async () => {
    for (;;) {
      const st = await server.accept();
      if (!st) return;
      const port = (echo.addr as Deno.NetAddr).port;
      relays.push(
        Deno.connect({ hostname: "127.0.0.1", port }).then((c) => relay(st, socketDuplex(c))),
      );
    }
  })();
  const one = async (i: number) => {
    const st = await client.openStream();
    const data = new Uint8Array(200_000 + i).map((_, k) => (k ^ i) & 0xff);
    const reading = readAll(st);
    const w = st.writable.getWriter();
    await w.write(data);
    await w.close();
    assert.deepEqual(await reading, data);
    st.close();
  };
  await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
  const stats = await Promise.all(relays) as { inputBytes: number }[];
  assert.equal(stats.length, 20);
  assert.equal(stats.reduce((n, s) => n + s.inputBytes, 0), 20 * 200_000 + 190);
  client.close();
  await server.done;
  await serving;
  echo.close();
  await echoing;
});

Deno.test("smux session: bulk writes on a direct transport are framed into one reused buffer, bytes intact", async () => {
  const [a, b] = duplexPair();
  const writes: Uint8Array[] = [];
  const io = a.direct!;
  // A transport that records what it was handed (and forwards a copy, as a socket would).
  const recording: Duplex = {
    ...a,
    readable: a.readable,
    writable: a.writable,
    direct: {
      read: (buf) => io.read(buf),
      write: (data) => (writes.push(data), io.write(data)),
      closeWrite: () => io.closeWrite(),
    },
    close: () => a.close(),
  };
  const client = new SmuxSession(recording, { client: true, keepAliveDisabled: true, version: 1 });
  const server = new SmuxSession(b, { client: false, keepAliveDisabled: true, version: 1 });
  const s = await client.openStream();
  const accepted = server.accept();
  const chunks = [1, 2, 3, 4].map((k) => new Uint8Array(20000).fill(k));
  for (const c of chunks) await s.direct!.write(c);
  const t = (await accepted)!;
  const got = new Uint8Array(80000);
  let o = 0;
  while (o < got.length) {
    const n = await t.direct!.read(got.subarray(o));
    if (n === null) break;
    o += n;
  }
  assert.equal(o, 80000);
  for (const k of [0, 1, 2, 3]) assert.ok(got.subarray(k * 20000, (k + 1) * 20000).every((v) => v === k + 1));
  const data = writes.filter((w) => w.length > 20000);
  assert.equal(data.length, 4);
  assert.ok(data.every((w) => w.buffer === data[0].buffer), "one buffer for every data write");
  client.close();
  server.close();
});
