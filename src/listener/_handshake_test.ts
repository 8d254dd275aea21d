import assert from "node:assert/strict";
import { rootLogger } from "../core/log.ts";
import { socketDuplex } from "../core/socket.ts";
import { HandshakeListener } from "./_handshake.ts";
import { listenTCP } from "./tcp.ts";

/** A listener whose "handshake" is one byte from the client. */
async function oneByteListener(opts: { backlog: number; maxHandshakes: number }) {
  const l = new HandshakeListener(
    {
      what: "test",
      bind: () => Promise.resolve(listenTCP("127.0.0.1:0")),
      upgrade: async (conn) => {
        if ((await conn.read(new Uint8Array(1))) !== 1) throw new Error("no byte");
        return socketDuplex(conn);
      },
    },
    "127.0.0.1:0",
    { ...opts, handshakeTimeout: 10_000 },
    rootLogger.with({ test: "handshake" }),
  );
  await l.listen();
  const port = Number(l.addr.split(":").pop());
  return { l, connect: () => Deno.connect({ hostname: "127.0.0.1", port }) };
}

/** True when the server closed `c` within `ms`. */
async function closedByServer(c: Deno.Conn, ms = 300): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    c.read(new Uint8Array(1)).then((n) => n === null, () => true),
    new Promise<boolean>((res) => timer = setTimeout(() => res(false), ms)),
  ]);
  clearTimeout(timer);
  return r;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 100) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "handshake listener: pending handshakes hold no slot of the backlog; a ready one is accepted at once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { l, connect } = await oneByteListener({ backlog: 1, maxHandshakes: 100 });
    const idle = await Promise.all(Array.from({ length: 20 }, connect));
    await until(() => l.handshaking === 20);
    const c = await connect();
    await c.write(new Uint8Array([1]));
    const d = await l.accept();
    assert.ok(d);
    d.close();
    for (const i of idle) assert.equal(await closedByServer(i, 10), false);
    [...idle, c].forEach((x) => x.close());
    l.close();
  },
});

Deno.test({
  name: "handshake listener: over maxHandshakes the oldest handshake is ended, not the newcomer",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { l, connect } = await oneByteListener({ backlog: 8, maxHandshakes: 4 });
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 6; i++) {
      conns.push(await connect());
      await until(() => l.handshaking === Math.min(i + 1, 4));
    }
    assert.deepEqual(
      await Promise.all(conns.map((c) => closedByServer(c))),
      [true, true, false, false, false, false],
    );
    const late = await connect();
    await late.write(new Uint8Array([1]));
    const d = await l.accept();
    assert.ok(d);
    assert.equal(await closedByServer(conns[2]), true); // the newcomer took the oldest one's place
    d.close();
    [...conns, late].forEach((x) => x.close());
    l.close();
  },
});

Deno.test({
  name: "handshake listener: handshaken connections nobody accepts are bounded by backlog",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { l, connect } = await oneByteListener({ backlog: 2, maxHandshakes: 100 });
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect();
      await c.write(new Uint8Array([1]));
      conns.push(c);
      await until(() => l.handshaking === 0);
    }
    assert.deepEqual(await Promise.all(conns.map((c) => closedByServer(c))), [false, false, true]);
    for (let i = 0; i < 2; i++) (await l.accept())!.close();
    conns.forEach((x) => x.close());
    l.close();
  },
});
