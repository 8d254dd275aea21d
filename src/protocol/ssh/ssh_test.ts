import assert from "node:assert/strict";
import type { Duplex } from "../../core/duplex.ts";
import { Logger } from "../../core/log.ts";
import { socketDuplex } from "../../core/socket.ts";
import { SshClientSession } from "./client.ts";
import { parseAuthorizedKeys } from "./keys.ts";
import { serveSsh, SshChannelConn, SshForwardRequest } from "./server.ts";
import { generateHostKey, parseKey } from "./ssh2.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A connected pair of TCP socket duplexes on loopback. */
async function pair(): Promise<[Duplex, Duplex]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
    l.accept(),
  ]);
  l.close();
  return [socketDuplex(a), socketDuplex(b)];
}

async function readAll(d: Duplex): Promise<string> {
  let out = "";
  const buf = new Uint8Array(1024);
  for (;;) {
    const n = await d.direct!.read(buf);
    if (n === null) return out;
    out += dec.decode(buf.subarray(0, n));
  }
}

function server(conn: Duplex, items: (SshChannelConn | SshForwardRequest)[], lines: string[]) {
  const log = new Logger({ level: "debug", format: "text", sink: (l) => lines.push(l) });
  return serveSsh(conn, {
    hostKey: parseKey(generateHostKey().private),
    username: "u",
    password: "pw",
    authorizedKeys: [],
    handshakeTimeout: 2000,
    log,
  }, (item) => {
    items.push(item);
    return true;
  });
}

const clientOpts = {
  username: "u",
  password: "pw",
  handshakeTimeout: 2000,
  keepaliveInterval: 0,
  keepaliveCountMax: 3,
};

Deno.test("authorized_keys: comments, options and blank lines; bad lines are named", () => {
  const k = generateHostKey().public;
  const keys = parseAuthorizedKeys(`# mine\n\n${k}\nno-pty,no-X11-forwarding ${k}\n`);
  assert.equal(keys.length, 2);
  assert.equal(keys[0].type, "ssh-ed25519");
  assert.throws(() => parseAuthorizedKeys(`${k}\nnot a key\n`, "ak"), /ak:2: not a public key/);
});

Deno.test({ name: "ssh: direct-tcpip channel with half-close both ways", ...opts }, async () => {
  const [c, s] = await pair();
  const items: (SshChannelConn | SshForwardRequest)[] = [];
  const lines: string[] = [];
  const served = server(s, items, lines);
  const session = await SshClientSession.connect(c, clientOpts);
  const ch = session.forwardOut("example.org:80");
  while (items.length === 0) await new Promise((r) => setTimeout(r, 10));
  const req = items[0] as SshChannelConn;
  assert.ok(req instanceof SshChannelConn);
  assert.equal(req.dst, "example.org:80");
  assert.equal(req.user, "u");
  const far = req.open();
  const near = await ch;
  // Client sends and half-closes; the server still answers after reading EOF.
  await near.direct!.write(enc.encode("question"));
  await near.direct!.closeWrite();
  assert.equal(await readAll(far), "question");
  await far.direct!.write(enc.encode("answer"));
  await far.direct!.closeWrite();
  assert.equal(await readAll(near), "answer");
  near.close();
  far.close();
  session.close();
  await served;
});

Deno.test({ name: "ssh: a refused direct-tcpip channel fails the client's open", ...opts }, async () => {
  const [c, s] = await pair();
  const items: (SshChannelConn | SshForwardRequest)[] = [];
  const served = server(s, items, []);
  const session = await SshClientSession.connect(c, clientOpts);
  const ch = session.forwardOut("127.0.0.1:1");
  while (items.length === 0) await new Promise((r) => setTimeout(r, 10));
  (items[0] as SshChannelConn).refuse();
  await assert.rejects(ch, /refused to open a channel to 127.0.0.1:1/);
  session.close();
  await served;
});

Deno.test(
  { name: "ssh: tcpip-forward request, forwarded channel back, cancel on close", ...opts },
  async () => {
    const [c, s] = await pair();
    const items: (SshChannelConn | SshForwardRequest)[] = [];
    const served = server(s, items, []);
    const session = await SshClientSession.connect(c, clientOpts);
    const listening = session.forwardIn("127.0.0.1:7000");
    while (items.length === 0) await new Promise((r) => setTimeout(r, 10));
    const req = items[0] as SshForwardRequest;
    assert.ok(req instanceof SshForwardRequest);
    assert.equal(req.bindAddr, "127.0.0.1:7000");
    req.accept(7000);
    const ln = await listening;
    const back = await req.openForwarded(7000, "10.1.2.3:5555");
    const inbound = await ln.accept();
    assert.equal(inbound?.remote, "10.1.2.3:5555");
    await back.direct!.write(enc.encode("hi"));
    await back.direct!.closeWrite();
    assert.equal(await readAll(inbound!), "hi");
    ln.close();
    await req.ended; // cancel-tcpip-forward reached the server
    back.close();
    inbound!.close();
    session.close();
    await served;
  },
);

Deno.test({ name: "ssh: wrong password is refused with a reason on both sides", ...opts }, async () => {
  const [c, s] = await pair();
  const lines: string[] = [];
  const served = server(s, [], lines);
  await assert.rejects(
    SshClientSession.connect(c, { ...clientOpts, password: "nope" }),
    /authentication failed/,
  );
  await served;
  assert.ok(lines.some((l) => l.includes("wrong user name or password")), lines.join("\n"));
});

Deno.test({ name: "ssh: garbage instead of a banner is closed and logged", ...opts }, async () => {
  const [c, s] = await pair();
  const lines: string[] = [];
  const served = server(s, [], lines);
  await c.direct!.write(enc.encode("GET / HTTP/1.1\r\n\r\n"));
  await readAll(c).catch(() => "");
  await served;
  assert.ok(lines.some((l) => l.includes("not an SSH client")), lines.join("\n"));
  c.close();
});

Deno.test(
  { name: "ssh: a client that never speaks is dropped at the handshake deadline", ...opts },
  async () => {
    const [c, s] = await pair();
    const lines: string[] = [];
    const t0 = Date.now();
    await server(s, [], lines);
    assert.ok(Date.now() - t0 >= 1900 && Date.now() - t0 < 4000);
    assert.ok(lines.some((l) => l.includes("no successful login")), lines.join("\n"));
    c.close();
  },
);

Deno.test("generateHostKey: every key it returns parses (ssh2's generator alone fails ~1 in 200 under Deno)", () => {
  for (let i = 0; i < 1500; i++) parseKey(generateHostKey().private);
});
