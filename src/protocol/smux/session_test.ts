import assert from "node:assert/strict";
import { duplexPair } from "../../core/pipe.ts";
import type { Duplex } from "../../core/duplex.ts";
import { SmuxSession } from "./session.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads exactly n bytes from a raw duplex's direct path. */
async function readN(d: Duplex, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await d.direct!.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function readAll(d: Duplex): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of d.readable) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
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
  assert.equal(hex(await readN(raw, 8)), "0100000003000000"); // SYN 3
  await write(st, text("hello"));
  assert.equal(hex(await readN(raw, 13)), "010205000300000068656c6c6f");
  await st.writable.close();
  assert.equal(hex(await readN(raw, 8)), "0101000003000000"); // FIN 3
  const st2 = await s.openStream();
  assert.equal(hex(await readN(raw, 8)), "0100000005000000"); // SYN 5
  st2.close();
  s.close();
  raw.close();
  await s.done;
});

Deno.test("smux session: a server's first stream is id 2", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true });
  await s.openStream();
  assert.equal(hex(await readN(raw, 8)), "0100000002000000");
  s.close();
  raw.close();
});

Deno.test("smux session: serves the relay BIND capture from real gost (server side)", async () => {
  const [a, raw] = duplexPair();
  const s = new SmuxSession(a, { client: false, keepAliveDisabled: true });
  // gost (smux client) sends SYN 3 + PSH(relay response) in one write, then PSH 'inbound-hello'.
  await raw.direct!.write(unhex("010000000300000001020e00030000000100000a020007017f0000018fa2"));
  await raw.direct!.write(unhex("01020d0003000000696e626f756e642d68656c6c6f"));
  const st = (await s.accept())!;
  assert.ok(st);
  const buf = new Uint8Array(64);
  let got = 0;
  while (got < 27) got += (await st.direct!.read(buf.subarray(got)))!;
  assert.equal(hex(buf.subarray(0, 14)), "0100000a020007017f0000018fa2");
  assert.equal(str(buf.subarray(14, 27)), "inbound-hello");
  await st.direct!.write(text("reply"));
  assert.equal(hex(await readN(raw, 13)), "01020500030000007265706c79");
  await raw.direct!.write(unhex("0101000003000000")); // FIN 3
  assert.equal(await st.direct!.read(buf), null);
  await raw.direct!.write(unhex("0103000000000000")); // NOP keeps the session
  assert.equal(s.closed, false);
  st.close();
  assert.equal(hex(await readN(raw, 8)), "0101000003000000");
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
