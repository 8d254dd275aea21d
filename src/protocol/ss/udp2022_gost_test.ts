/**
 * Shadowsocks 2022 UDP against real gost 3.2.6: golden tests from `testdata/ss2022.json`
 * (captured on loopback from a real gost 3.2.6 binary, every packet decrypted). gost derives
 * a session's subkey from its id's bytes reversed; its packets open in our sessions, ours in
 * the way gost opens them, and SIP022's order still works where a peer uses it.
 */
import assert from "node:assert/strict";
import { hex, toHex } from "../../../tests/_helpers.ts";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { blake3Subkey, lookupMethod, type MethodInfo, methodKey } from "./cipher.ts";
import {
  type KeyOrder,
  openBody2022,
  type OpenedBody2022,
  openSeparateHeader,
  type SeparateHeader,
  SeparateHeaderCipher,
  sessionKey,
  TYPE_CLIENT,
  TYPE_SERVER,
} from "./udp2022.ts";
import { ClientSession, type ServerPacket, ServerSessions } from "./udp2022_session.ts";

type Json = any;
const data: Json = JSON.parse(await Deno.readTextFile(new URL("./testdata/ss2022.json", import.meta.url)));
const vectors: Json[] = data.vectors;
const byId = (id: string): Json => vectors.find((v) => v.id === id)!;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function keys(v: Json): { method: MethodInfo; psk: Uint8Array } {
  const method = lookupMethod(v.method)!;
  return { method, psk: methodKey(method, v.key) };
}

/** The encrypted packets of `v` (events decoded as ss2022 UDP packets), optionally of one `dir`. */
function packets(v: Json, dir?: RegExp): Json[] {
  return v.events.filter((e: Json) => e.decoded?.separate_header && (!dir || dir.test(e.dir)));
}

/** The capture clock (ms) of a decoded packet. */
function clock(e: Json): number {
  const ts = e.decoded.main_header.timestamp;
  return Math.round((ts.value - ts.minus_capture_clock_s) * 1000);
}

const orderOf = (e: Json): KeyOrder => e.decoded.body_opened_with.startsWith("spec") ? "spec" : "gost";

function ok<T>(r: T | string): T {
  assert.equal(typeof r, "object", `dropped: ${r}`);
  return r as T;
}

/** Opens `packet` with the subkey in `order` (what gost's side, or a SIP022 side, does). */
function openAs(
  v: Json,
  packet: Uint8Array,
  type: typeof TYPE_CLIENT | typeof TYPE_SERVER,
  order: KeyOrder,
  now: number,
): OpenedBody2022 | string {
  const { method, psk } = keys(v);
  const h = openSeparateHeader(new SeparateHeaderCipher(psk), packet) as SeparateHeader;
  return openBody2022(sessionKey(method, psk, h.sessionId.slice(), order).aead, h, packet, type, now);
}

Deno.test("gost 2022 UDP: every recorded packet opens with our codec to the recorded plaintext", () => {
  let n = 0;
  for (const v of vectors) {
    for (const e of packets(v)) {
      const { method, psk } = keys(v);
      const d = e.decoded;
      const packet = hex(e.hex);
      const h = ok<SeparateHeader>(openSeparateHeader(new SeparateHeaderCipher(psk), packet));
      assert.equal(toHex(h.sessionId) + toHex(h.nonce.subarray(4)), d.separate_header.plain_hex);
      assert.equal(h.packetId, d.separate_header.packet_id);
      const id = h.sessionId.slice();
      assert.equal(toHex(blake3Subkey(psk, id)), d.subkey_spec_hex);
      assert.equal(toHex(blake3Subkey(psk, id.slice().reverse())), d.subkey_reversed_session_id_hex);
      const order = orderOf(e);
      const plain = sessionKey(method, psk, id, order).aead.openSync(h.nonce, packet.subarray(16));
      assert.equal(toHex(plain!), d.body_plain_hex, `${v.id} ${e.dir}`);
      const other = order === "gost" ? "spec" : "gost";
      assert.equal(sessionKey(method, psk, id, other).aead.openSync(h.nonce, packet.subarray(16)), null);
      const mh = d.main_header;
      const b = ok<OpenedBody2022>(openAs(v, packet, mh.type, order, clock(e)));
      assert.equal(toHex(b.addrBytes), mh.socks_addr.hex);
      assert.equal(toHex(b.payload), mh.payload_hex);
      if (mh.type === TYPE_SERVER) assert.equal(toHex(b.clientSessionId!), mh.client_session_id_hex);
      n++;
    }
  }
  assert.ok(n >= 25, `${n} packets`);
});

/** A server session table on the capture's clock. */
function table(v: Json, clockMs: { t: number }): ServerSessions<null> {
  const { method, psk } = keys(v);
  return new ServerSessions<null>(method, psk, {
    maxSessions: 16,
    ttlMs: 60_000,
    create: () => null,
    dispose: () => {},
    now: () => clockMs.t,
  });
}

const gostClients = vectors.filter((v) => /^ssu2022-(gost-to-gost|connector)/.test(v.id));

for (const v of gostClients) {
  Deno.test(`gost 2022 UDP ${v.id}: gost's client packets open in our server, answered gost's way`, () => {
    const clockMs = { t: 0 };
    const t = table(v, clockMs);
    const sent = packets(v, /^gost(-client)?->(gost-server|recorder)/);
    assert.equal(sent.length, 2);
    const sessions = new Set<unknown>();
    for (const e of sent) {
      clockMs.t = clock(e);
      const p = ok<ServerPacket<null>>(t.open(hex(e.hex)));
      sessions.add(p.session);
      assert.equal(p.session.client.order, "gost");
      assert.equal(p.body.addr, `127.0.0.1:${e.decoded.main_header.socks_addr.port}`);
      assert.equal(toHex(p.body.payload), e.decoded.main_header.payload_hex);
      // Our answer opens as gost's client opens it (reversed id), not SIP022's way.
      const back = t.seal(p.session, p.body.addrBytes, new TextEncoder().encode("echo:x"));
      assert.equal(openAs(v, back, TYPE_SERVER, "spec", clockMs.t), "auth");
      const b = ok<OpenedBody2022>(openAs(v, back, TYPE_SERVER, "gost", clockMs.t));
      assert.equal(text(b.payload), "echo:x");
      assert.deepEqual(b.clientSessionId, p.session.client.id);
    }
    // One of ours per session id of gost's (without keepAlive each datagram starts one).
    assert.equal(sessions.size, new Set(sent.map((e) => e.decoded.separate_header.session_id_hex)).size);
  });
}

for (const size of [128, 256]) {
  Deno.test(`gost 2022 UDP aes-${size}: our server takes both subkey orders (gost only its own) and answers in the client's`, () => {
    const v = byId(`ssu2022-server-aes-${size}-gcm-subkey-byte-order`);
    const clockMs = { t: 0 };
    const t = table(v, clockMs);
    for (const [conn, order, payload] of [["client0", "spec", "spec"], ["client1", "gost", "reversed"]]) {
      const e = packets(v).find((x: Json) => x.conn === conn && x.dir === "client->gost(udp)");
      clockMs.t = clock(e);
      const p = ok<ServerPacket<null>>(t.open(hex(e.hex)));
      assert.equal(p.session.client.order, order);
      assert.equal(text(p.body.payload), payload);
      const back = t.seal(p.session, p.body.addrBytes, new TextEncoder().encode("echo"));
      ok(openAs(v, back, TYPE_SERVER, order as KeyOrder, clockMs.t));
      assert.equal(openAs(v, back, TYPE_SERVER, order === "gost" ? "spec" : "gost", clockMs.t), "auth");
      // Later packets of the session stay in the order found first.
      assert.equal(t.open(hex(e.hex)), "replay");
    }
  });
}

/** The client session a recorded server packet answers, on the capture's clock. */
function clientFor(v: Json, answer: Json, clockMs: { t: number }): ClientSession {
  const { method, psk } = keys(v);
  return new ClientSession(
    method,
    psk,
    () => clockMs.t,
    hex(answer.decoded.main_header.client_session_id_hex),
  );
}

for (const v of [...gostClients, ...vectors.filter((v) => v.id.startsWith("ssu2022-server"))]) {
  const answers = packets(v, /^(gost(-server)?|recorder)->(gost-client|client|gost)\(udp\)$/);
  if (answers.length === 0) continue;
  Deno.test(`gost 2022 UDP ${v.id}: the recorded answers open in our client, either subkey order`, () => {
    const clockMs = { t: 0 };
    for (const e of answers) {
      clockMs.t = clock(e);
      const c = clientFor(v, e, clockMs);
      const b = ok<OpenedBody2022>(c.open(hex(e.hex)));
      assert.equal(toHex(b.payload), e.decoded.main_header.payload_hex);
      assert.equal(c.open(hex(e.hex)), "replay");
    }
  });
}

Deno.test("gost 2022 UDP: our client's packets open gost's way (reversed id), as gost's server needs", () => {
  for (const size of [128, 256]) {
    const v = byId(`ssu2022-connector-aes-${size}-gcm`);
    const { method, psk } = keys(v);
    const now = Date.now();
    const c = new ClientSession(method, psk, () => now);
    const addr = encodeSocksAddr("127.0.0.1:18318");
    for (const payload of ["ping0", "ping1"]) {
      const pkt = c.seal(addr, new TextEncoder().encode(payload));
      assert.equal(openAs(v, pkt, TYPE_CLIENT, "spec", now), "auth");
      assert.equal(text(ok<OpenedBody2022>(openAs(v, pkt, TYPE_CLIENT, "gost", now)).payload), payload);
    }
  }
});
