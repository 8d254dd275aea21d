import assert from "node:assert/strict";
import { mock } from "node:test";
import type { Duplex } from "../core/duplex.ts";
import { UdpListener } from "./udp.ts";

const enc = new TextEncoder();

async function clientAndSession(
  l: UdpListener,
): Promise<{ client: Deno.DatagramConn; session: Duplex & { closed?: boolean } }> {
  const client = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = Number(l.addr.split(":").pop());
  await client.send(enc.encode("ping"), { transport: "udp", hostname: "127.0.0.1", port });
  const session = (await l.accept())!;
  return { client, session: session as Duplex & { closed?: boolean } };
}

Deno.test("udp listener: one session per client, datagrams kept whole", async () => {
  const l = new UdpListener("127.0.0.1:0", { keepAlive: true });
  await l.listen();
  try {
    const { client, session } = await clientAndSession(l);
    const reader = session.readable.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "ping");
    const port = Number(l.addr.split(":").pop());
    await client.send(enc.encode("second"), { transport: "udp", hostname: "127.0.0.1", port });
    assert.equal(new TextDecoder().decode((await reader.read()).value), "second");
    assert.equal(l.sessionCount, 1);
    const w = session.writable.getWriter();
    await w.write(enc.encode("pong"));
    const [back] = await client.receive();
    assert.equal(new TextDecoder().decode(back), "pong");
    client.close();
  } finally {
    l.close();
  }
});

Deno.test("udp listener: keepAlive=false closes the channel after the first answer", async () => {
  const l = new UdpListener("127.0.0.1:0", { keepAlive: false });
  await l.listen();
  try {
    const { client, session } = await clientAndSession(l);
    await session.writable.getWriter().write(enc.encode("answer"));
    assert.equal(session.closed, true);
    assert.equal(l.sessionCount, 0);
    client.close();
  } finally {
    l.close();
  }
});

Deno.test("udp listener: an idle keepAlive channel closes within two ttl checks (fake timers)", async () => {
  mock.timers.enable({ apis: ["setInterval"] });
  const l = new UdpListener("127.0.0.1:0", { keepAlive: true, ttl: 5000 });
  try {
    await l.listen();
    const { client, session } = await clientAndSession(l);
    const w = session.writable.getWriter();
    // An answer before every check keeps it alive.
    for (let i = 0; i < 3; i++) {
      await w.write(enc.encode("answer"));
      mock.timers.tick(5000);
      assert.equal(session.closed, false, `check ${i}: active channel stays`);
    }
    // Then silence: the check after the last answer marked it idle; the next one closes it.
    mock.timers.tick(5000);
    assert.equal(session.closed, true);
    assert.equal(l.sessionCount, 0);
    client.close();
  } finally {
    l.close();
    mock.timers.reset();
  }
});
