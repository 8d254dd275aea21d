/**
 * Access control through the real CLI: admissions refuse clients at accept (closed, no answer),
 * service-level bypasses refuse targets with each protocol's refusal (HTTP 403, socks5 closed,
 * relay Forbidden), hop- and node-level bypasses skip a hop (direct) or a node (another one),
 * authers take several users from a file re-read every `reload`, and SIGHUP applies a changed
 * policy to new connections while a live one goes on.
 */
import { equal, match, ok } from "node:assert/strict";
import { deadline } from "../../src/core/timeout.ts";
import {
  decoder,
  encoder,
  freePort,
  type GostProcess,
  hex,
  httpServer,
  startGost,
  tcpEchoServer,
  toHex,
  waitUntil,
} from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Sends `data` to 127.0.0.1:`port` and collects what comes back until the peer closes (or `ms`). */
async function exchange(
  port: number,
  data: Uint8Array,
  ms = 3000,
): Promise<{ bytes: Uint8Array; closed: boolean }> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const out: number[] = [];
  let closed = false;
  try {
    await c.write(data).catch(() => 0);
    const buf = new Uint8Array(4096);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const n = await Promise.race([
        c.read(buf).catch(() => null),
        new Promise<"t">((r) => setTimeout(() => r("t"), end - Date.now())),
      ]);
      if (n === "t") break;
      if (n === null) {
        closed = true;
        break;
      }
      out.push(...buf.subarray(0, n));
    }
  } finally {
    c.close();
  }
  return { bytes: Uint8Array.from(out), closed };
}

const connectReq = (target: string, auth?: string) =>
  encoder.encode(
    `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${
      auth ? `Proxy-Authorization: Basic ${btoa(auth)}\r\n` : ""
    }\r\n`,
  );

/** The status code of an HTTP proxy's answer to CONNECT `target`. */
async function connectStatus(proxy: number, target: string, auth?: string): Promise<number> {
  const { bytes } = await exchange(proxy, connectReq(target, auth), 1500);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(decoder.decode(bytes));
  return m ? Number(m[1]) : 0;
}

async function curl(args: string[]): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "-w", "%{http_code}", ...args],
  })
    .output();
  return decoder.decode(out.stdout);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gost-policy-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The first flight of a real TLS client (a ClientHello), captured from Deno's TLS client. */
async function clientHello(): Promise<Uint8Array> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.connectTls({ hostname: "127.0.0.1", port: l.addr.port }).catch(() => null);
  const c = await l.accept();
  const buf = new Uint8Array(4096);
  const n = await c.read(buf);
  c.close();
  l.close();
  (await client)?.close();
  return buf.slice(0, n ?? 0);
}

Deno.test({
  name: "admission: a whitelist of 10.9.9.9 closes a 127.0.0.1 client at once, unanswered; ~127.0.0.1 admits",
  ...opts,
  fn: async () => {
    const web = httpServer(() => new Response("hello"));
    const [p1, p2, p3] = [freePort(), freePort(), freePort()];
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${p1}?admission=~10.9.9.9`,
      "-L",
      `http://127.0.0.1:${p2}?admission=~127.0.0.1`,
      "-L",
      `http+tls://127.0.0.1:${p3}?admission=10.0.0.0/8,127.0.0.1`,
    ], 3);
    try {
      const t0 = performance.now();
      const r = await exchange(
        p1,
        encoder.encode(`GET http://127.0.0.1:${web.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`),
      );
      ok(r.closed, "the refused client is closed");
      equal(r.bytes.length, 0, `no answer, got ${decoder.decode(r.bytes)}`);
      ok(performance.now() - t0 < 1000, "closed at once");
      await g.waitFor(/refused by admission/);
      // A TLS listener refuses before its handshake: a ClientHello gets no ServerHello, only the close.
      const hello = await clientHello();
      const t = await exchange(p3, hello);
      ok(t.closed && t.bytes.length === 0, `tls: closed unanswered, got ${toHex(t.bytes)}`);
      equal(await curl(["-x", `http://127.0.0.1:${p2}`, `http://127.0.0.1:${web.port}/`]), "200");
    } finally {
      await g.stop();
      await web.close();
    }
  },
});

Deno.test({
  name:
    "bypass at the service: HTTP 403, socks5 closed without a reply, relay Forbidden; localhost is not resolved",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [h, h2, s5, r] = [freePort(), freePort(), freePort(), freePort()];
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${h}?bypass=127.0.0.1`,
      "-L",
      `http://127.0.0.1:${h2}?bypass=~localhost`,
      "-L",
      `socks5://127.0.0.1:${s5}?bypass=127.0.0.0/8`,
      "-L",
      `relay://127.0.0.1:${r}?bypass=127.0.0.1-127.0.0.9`,
    ], 4);
    try {
      equal(await connectStatus(h, `127.0.0.1:${echo.port}`), 403);
      equal(
        await curl(["-x", `http://127.0.0.1:${h}`, `http://127.0.0.1:${echo.port}/`]),
        "403",
        "plain proxying too",
      );
      equal(
        await connectStatus(h, `localhost:${echo.port}`),
        200,
        "the name localhost does not match 127.0.0.1",
      );
      equal(await connectStatus(h2, `127.0.0.1:${echo.port}`), 403, "whitelist: everything else is refused");
      equal(await connectStatus(h2, `localhost:${echo.port}`), 200);
      // socks5: method selection, then CONNECT 127.0.0.1:port → closed with no reply.
      const port = echo.port.toString(16).padStart(4, "0");
      const s = await exchange(s5, hex(`050100` + `050100017f000001${port}`));
      equal(toHex(s.bytes), "0500", "only the method selection comes back");
      ok(s.closed);
      // relay: CONNECT 127.0.0.1:port → Forbidden (0x03).
      const rr = await exchange(r, hex(`0101000a` + `020007017f000001${port}`));
      equal(toHex(rr.bytes), "01030000");
      ok(rr.closed);
    } finally {
      await g.stop();
      echo.close();
    }
  },
});

/** Starts an http proxy whose log shows the targets it carried. */
async function proxy(port: number): Promise<GostProcess> {
  return await startGost(["-L", `http://127.0.0.1:${port}`]);
}

Deno.test({
  name: "bypass at a hop: a bypassed target goes direct, the others through the hop",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [hop, lp] = [freePort(), freePort()];
    const upstream = await proxy(hop);
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${lp}`,
      "-F",
      `http://127.0.0.1:${hop}?bypass=127.0.0.1`,
    ]);
    try {
      equal(await connectStatus(lp, `127.0.0.1:${echo.port}`), 200);
      equal(await connectStatus(lp, `localhost:${echo.port}`), 200);
      await upstream.waitFor(`localhost:${echo.port}`);
      await new Promise((r) => setTimeout(r, 300));
      equal(
        upstream.stderr().includes(`"dst":"127.0.0.1:${echo.port}"`),
        false,
        "the bypassed target did not use the hop",
      );
    } finally {
      await g.stop();
      await upstream.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "bypass at a node: the node is skipped, another node of the hop carries the request",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [n0, n1, lp] = [freePort(), freePort(), freePort()];
    const [a, b] = [await proxy(n0), await proxy(n1)];
    await withDir(async (dir) => {
      const cfg = `${dir}/gost.yaml`;
      await Deno.writeTextFile(
        cfg,
        `services:
  - name: entry
    addr: 127.0.0.1:${lp}
    handler: {type: http, chain: c}
    listener: {type: tcp}
chains:
  - name: c
    hops:
      - name: h
        selector: {strategy: fifo}
        nodes:
          - {name: n0, addr: "127.0.0.1:${n0}", bypass: skip-local, connector: {type: http}, dialer: {type: tcp}}
          - {name: n1, addr: "127.0.0.1:${n1}", connector: {type: http}, dialer: {type: tcp}}
bypasses:
  - name: skip-local
    matchers: [127.0.0.1]
`,
      );
      const g = await startGost(["-C", cfg]);
      try {
        equal(await connectStatus(lp, `127.0.0.1:${echo.port}`), 200);
        await b.waitFor(`"dst":"127.0.0.1:${echo.port}"`);
        equal(await connectStatus(lp, `localhost:${echo.port}`), 200);
        await a.waitFor(`localhost:${echo.port}`);
        equal(a.stderr().includes(`"dst":"127.0.0.1:${echo.port}"`), false, "n0 was skipped");
      } finally {
        await g.stop();
      }
    });
    await a.stop();
    await b.stop();
    echo.close();
  },
});

Deno.test({
  name: "authers: several users from a file on http and socks5; a user added to the file works within reload",
  ...opts,
  fn: async () => {
    const web = httpServer(() => new Response("hi"));
    const [h, s5] = [freePort(), freePort()];
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/users`, "# users\nalice a-pw\n\ncarol c pw\n");
      await Deno.writeTextFile(
        `${dir}/gost.yaml`,
        `services:
  - name: web
    addr: 127.0.0.1:${h}
    handler: {type: http, auther: team}
    listener: {type: tcp}
  - name: socks
    addr: 127.0.0.1:${s5}
    handler: {type: socks5, authers: [team, ops]}
    listener: {type: tcp}
authers:
  - name: team
    file: {path: ${dir}/users}
    reload: 1s
  - name: ops
    auths:
      - {username: root, password: r00t}
`,
      );
      const g = await startGost(["-C", `${dir}/gost.yaml`], 2);
      const url = `http://127.0.0.1:${web.port}/`;
      try {
        equal(await curl(["-x", `http://alice:a-pw@127.0.0.1:${h}`, url]), "200");
        equal(await curl(["-x", `http://127.0.0.1:${h}`, "-U", "carol:c pw", url]), "200");
        equal(await curl(["-x", `http://alice:wrong@127.0.0.1:${h}`, url]), "407");
        equal(
          await curl(["-x", `http://root:r00t@127.0.0.1:${h}`, url]),
          "407",
          "ops is not the http service's",
        );
        equal(await curl(["-x", `socks5h://root:r00t@127.0.0.1:${s5}`, url]), "200");
        equal(await curl(["-x", `socks5h://alice:a-pw@127.0.0.1:${s5}`, url]), "200");
        equal(await curl(["-x", `http://bob:b-pw@127.0.0.1:${h}`, url]), "407");
        await Deno.writeTextFile(`${dir}/users`, "alice a-pw\nbob b-pw\n");
        const t0 = Date.now();
        await waitUntil(
          async () => await curl(["-x", `http://bob:b-pw@127.0.0.1:${h}`, url]) === "200",
          () => `bob admitted after the file changed; stderr:\n${g.stderr()}`,
          5000,
          200,
        );
        ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms with reload: 1s`);
        equal(
          await curl(["-x", `http://127.0.0.1:${h}`, "-U", "carol:c pw", url]),
          "407",
          "carol left the file",
        );
      } finally {
        await g.stop();
      }
    });
    await web.close();
  },
});

Deno.test({
  name: "policy config errors name path and line: missing auth file, unknown auther, unknown bypass",
  ...opts,
  fn: async () => {
    await withDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/gost.yaml`,
        `services:
  - name: s
    addr: 127.0.0.1:0
    bypass: nope
    handler: {type: http, auther: nobody}
    listener: {type: tcp}
authers:
  - name: team
    file: {path: ${dir}/missing-users}
`,
      );
      const g = await startGost(["-C", `${dir}/gost.yaml`]).catch((e) => e as Error);
      ok(g instanceof Error);
      match(g.message, /line 4: services\[0\]\.bypass: bypass "nope" does not exist \(defined: none\)/);
      match(
        g.message,
        /line 5: services\[0\]\.handler\.auther: auther "nobody" does not exist \(defined: team\)/,
      );
      match(g.message, /line 9: authers\[0\]\.file\.path: cannot read .*missing-users/);
    });
  },
});

Deno.test({
  name: "reload: SIGHUP applies a changed bypass to new connections, a live tunnel goes on",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const p = freePort();
    await withDir(async (dir) => {
      const yaml = (matchers: string) =>
        `services:
  - name: s
    addr: 127.0.0.1:${p}
    bypass: b
    handler: {type: http}
    listener: {type: tcp}
bypasses:
  - name: b
    matchers: [${matchers}]
`;
      await Deno.writeTextFile(`${dir}/gost.yaml`, yaml("10.0.0.0/8"));
      const g = await startGost(["-C", `${dir}/gost.yaml`]);
      try {
        const live = await Deno.connect({ hostname: "127.0.0.1", port: p });
        await live.write(connectReq(`127.0.0.1:${echo.port}`));
        const buf = new Uint8Array(1024);
        const n = await deadline(live.read(buf), 3000, "CONNECT answer");
        match(decoder.decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);
        await Deno.writeTextFile(`${dir}/gost.yaml`, yaml("127.0.0.1"));
        g.child.kill("SIGHUP");
        await g.waitFor(/reload: 0 kept, 1 replaced/);
        equal(await connectStatus(p, `127.0.0.1:${echo.port}`), 403, "a new connection gets the new bypass");
        await live.write(encoder.encode("still here"));
        const m = await deadline(live.read(buf), 3000, "echo on the live tunnel");
        equal(decoder.decode(buf.subarray(0, m ?? 0)), "still here");
        live.close();
      } finally {
        await g.stop();
      }
    });
    echo.close();
  },
});

Deno.test({
  name: "authers on the sshd listener: several users log in, a wrong password does not",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const sp = freePort();
    await withDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/gost.yaml`,
        `services:
  - name: ssh
    addr: 127.0.0.1:${sp}
    handler: {type: sshd}
    listener: {type: sshd, authers: [team]}
authers:
  - name: team
    auths:
      - {username: alice, password: a-pw}
      - {username: bob, password: b-pw}
`,
      );
      const server = await startGost(["-C", `${dir}/gost.yaml`]);
      const clients: GostProcess[] = [];
      try {
        for (const [user, want] of [["alice:a-pw", "hi"], ["bob:b-pw", "hi"], ["bob:nope", ""]]) {
          const lp = freePort();
          clients.push(
            await startGost([
              "-L",
              `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
              "-F",
              `sshd://${user}@127.0.0.1:${sp}`,
            ]),
          );
          const r = await exchange(lp, encoder.encode("hi"), 1500);
          equal(decoder.decode(r.bytes), want, user);
        }
        await server.waitFor(`wrong user name or password for \\"bob\\"`);
      } finally {
        for (const c of clients) await c.stop();
        await server.stop();
      }
    });
    echo.close();
  },
});
