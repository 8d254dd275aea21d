import assert from "node:assert/strict";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { lookupMethod, methodKey } from "./cipher.ts";
import { ClientSession, type ServerPacket, ServerSessions } from "./udp2022_session.ts";
import type { OpenedBody2022 } from "./udp2022.ts";

const method = lookupMethod("2022-blake3-aes-128-gcm")!;
const psk = methodKey(method, btoa("0123456789abcdef"));
const ADDR = encodeSocksAddr("127.0.0.1:53");
const enc = new TextEncoder();

function table(clock: { t: number }, maxSessions = 16) {
  const disposed: number[] = [];
  let made = 0;
  const t = new ServerSessions(method, psk, {
    maxSessions,
    ttlMs: 60_000,
    create: () => ++made,
    dispose: (n) => disposed.push(n),
    now: () => clock.t,
  });
  return { t, disposed };
}

function ok<T>(r: T | string): T {
  assert.equal(typeof r, "object", `dropped: ${r}`);
  return r as T;
}

Deno.test("ssu 2022 sessions: one server session per client session id, replays refused", () => {
  const clock = { t: 1_700_000_000_000 };
  const { t } = table(clock);
  const c = new ClientSession(method, psk, () => clock.t);
  const p0 = c.seal(ADDR, enc.encode("a"));
  const p1 = c.seal(ADDR, enc.encode("b"));
  const r1 = ok<ServerPacket<number>>(t.open(p1));
  assert.ok(r1.created);
  const r0 = ok<ServerPacket<number>>(t.open(p0));
  assert.ok(!r0.created, "same session id, same session (whatever address it came from)");
  assert.equal(r0.session, r1.session);
  assert.equal(t.open(p0), "replay");
  assert.equal(t.open(p1), "replay");
  const other = new ClientSession(method, psk, () => clock.t);
  assert.ok(ok<ServerPacket<number>>(t.open(other.seal(ADDR, enc.encode("c")))).created);
  assert.equal(t.size, 2);

  // The answer reaches the client, carrying the address; a replayed answer does not.
  const back = t.seal(r0.session, ADDR, enc.encode("answer"));
  const b = ok<OpenedBody2022>(c.open(back));
  assert.deepEqual(b.payload, enc.encode("answer"));
  assert.equal(b.addr, "127.0.0.1:53");
  assert.equal(c.open(back), "replay");
  // An answer for the other client session is not ours.
  assert.equal(
    c.open(
      t.seal(
        ok<ServerPacket<number>>(t.open(other.seal(ADDR, new Uint8Array(1)))).session,
        ADDR,
        new Uint8Array(1),
      ),
    ),
    "session",
  );
});

Deno.test("ssu 2022 sessions: forged packets do not start sessions or move windows", () => {
  const clock = { t: 1_700_000_000_000 };
  const { t } = table(clock);
  const c = new ClientSession(method, psk, () => clock.t);
  const p = c.seal(ADDR, enc.encode("a"));
  const forged = p.slice();
  forged[forged.length - 3] ^= 1;
  assert.equal(t.open(forged), "auth");
  assert.equal(t.size, 0);
  assert.ok(ok<ServerPacket<number>>(t.open(p)));
  const wrong = new ClientSession(method, methodKey(method, btoa("fedcba9876543210")), () => clock.t);
  assert.equal(t.open(wrong.seal(ADDR, enc.encode("x"))), "auth");
  assert.equal(t.size, 1);
});

Deno.test("ssu 2022 sessions: idle sessions expire after the TTL; a full table drops new sessions", () => {
  const clock = { t: 1_700_000_000_000 };
  const { t, disposed } = table(clock, 2);
  const a = new ClientSession(method, psk, () => clock.t);
  const b = new ClientSession(method, psk, () => clock.t);
  const c = new ClientSession(method, psk, () => clock.t);
  ok(t.open(a.seal(ADDR, new Uint8Array(1))));
  clock.t += 30_000;
  ok(t.open(b.seal(ADDR, new Uint8Array(1))));
  assert.equal(t.open(c.seal(ADDR, new Uint8Array(1))), "full");
  clock.t += 30_001; // a idle for 60 s, b for 30 s
  t.expire();
  assert.equal(t.size, 1);
  assert.deepEqual(disposed, [1]);
  ok(t.open(c.seal(ADDR, new Uint8Array(1))));
  t.close();
  assert.equal(t.size, 0);
  assert.deepEqual(disposed.sort(), [1, 2, 3]);
});

Deno.test("ssu 2022 client: a server restart is followed; a third server session within a minute is refused", () => {
  const clock = { t: 1_700_000_000_000 };
  const c = new ClientSession(method, psk, () => clock.t);
  const answer = (s: ReturnType<typeof table>) => {
    const r = ok<ServerPacket<number>>(s.t.open(c.seal(ADDR, new Uint8Array(1))));
    return s.t.seal(r.session, ADDR, enc.encode("hi"));
  };
  const s1 = table(clock), s2 = table(clock), s3 = table(clock);
  ok(c.open(answer(s1)));
  ok(c.open(answer(s2))); // restarted server: new session, the old one is kept as previous
  const late = answer(s1);
  ok(c.open(late)); // a late answer from the previous session still arrives
  assert.equal(c.open(answer(s3)), "session");
  clock.t += 60_000;
  ok(c.open(answer(s3)));
});
