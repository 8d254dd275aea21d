/**
 * Hosts and resolvers through the real CLI: names mapped or resolved reach the local echo
 * server through an http proxy, a tcp forward and a chain; nameservers over udp and tcp
 * (Debian dnsmasq), tls and https (a DNS server in the test), and through a chain; bad input
 * names its line; a hosts file is read again every reload period and on SIGHUP.
 */
import { equal, match } from "node:assert/strict";
import { startDnsServer } from "../_dns_server.ts";
import {
  decoder,
  encoder,
  freePort,
  peerTest,
  runGost,
  spawnProcess,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  waitForPort,
  waitUntil,
} from "../_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "gost-hosts-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** CONNECT through the http proxy on `port` to `target`; echoes "ping" when it works. */
async function connectVia(port: number, target: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(encoder.encode(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await c.read(buf);
      if (n === null) break;
      head += decoder.decode(buf.subarray(0, n));
    }
    const status = head.split("\r\n")[0];
    if (!/ 200 /.test(status)) return status;
    // The target's greeting may come in the same read as the proxy's response head.
    const early = head.slice(head.indexOf("\r\n\r\n") + 4);
    if (early) return early;
    await c.write(encoder.encode("ping"));
    const n = await c.read(buf);
    return n === null ? "closed" : decoder.decode(buf.subarray(0, n));
  } finally {
    c.close();
  }
}

async function echoThrough(port: number): Promise<string> {
  try {
    return decoder.decode(await tcpRoundTrip(port, encoder.encode("ping")));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

Deno.test({
  name: "hosts: ?hosts= maps a name to 127.0.0.1 for an http proxy and a tcp forward",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [http, fwd, bare] = [freePort(), freePort(), freePort()];
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${http}?hosts=echo.gost-test:127.0.0.1`,
      "-L",
      `tcp://127.0.0.1:${fwd}/echo.gost-test:${echo.port}?hosts=.gost-test:127.0.0.1`,
      "-L",
      `tcp://127.0.0.1:${bare}/echo.gost-test:${echo.port}`,
    ], 3);
    try {
      equal(await connectVia(http, `echo.gost-test:${echo.port}`), "ping");
      equal(await connectVia(http, `ECHO.gost-test.:${echo.port}`), "ping");
      equal(await echoThrough(fwd), "ping");
      // Without the mapping the name is not found (the test can fail).
      equal(await echoThrough(bare), "");
    } finally {
      await g.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "hosts: a hop's hosts maps the node's address (-F http://proxy.name:port?hosts=)",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const [proxy, fwd] = [freePort(), freePort()];
    const p = await startGost(["-L", `http://127.0.0.1:${proxy}`]);
    const g = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwd}/127.0.0.1:${echo.port}`,
      "-F",
      `http://proxy.gost-test:${proxy}?hosts=proxy.gost-test:127.0.0.1`,
    ]);
    try {
      equal(await echoThrough(fwd), "ping");
      // The proxy was reached at 127.0.0.1 (the name was mapped) and logs once the connection ends.
      await p.waitFor(new RegExp(`"dst":"127\\.0\\.0\\.1:${echo.port}"`), 5000);
    } finally {
      await g.stop();
      await p.stop();
      echo.close();
    }
  },
});

/** dnsmasq answering example.test with 127.0.0.1 on udp and tcp `port`. */
function startDnsmasq(port: number) {
  return spawnProcess("dnsmasq", [
    "--no-resolv",
    "--address=/example.test/127.0.0.1",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "-k",
    "--pid-file=",
    "--conf-file=/dev/null",
  ]);
}

peerTest("resolver: ?resolver= over udp and over tcp against dnsmasq", ["dnsmasq"], async () => {
  const echo = tcpEchoServer();
  const dnsPort = freePort();
  const dns = startDnsmasq(dnsPort);
  const [udp, tcp, http] = [freePort(), freePort(), freePort()];
  let g;
  try {
    // dnsmasq binds udp and tcp together; its tcp port answering means udp is served too.
    await waitForPort(dnsPort, 5000).catch((e) => {
      throw new Error(`dnsmasq did not start: ${e}; stderr:\n${dns.stderr()}`);
    });
    g = await startGost([
      "-L",
      `tcp://127.0.0.1:${udp}/example.test:${echo.port}?resolver=127.0.0.1:${dnsPort}`,
      "-L",
      `tcp://127.0.0.1:${tcp}/www.example.test:${echo.port}?resolver=tcp://127.0.0.1:${dnsPort}`,
      "-L",
      `http://127.0.0.1:${http}?resolver=udp://127.0.0.1:${dnsPort}`,
      "-D",
    ], 3);
    await waitUntil(
      async () => (await echoThrough(udp)) === "ping",
      () => `udp resolver: ${g!.stderr()}\ndnsmasq: ${dns.stderr()}`,
      5000,
    );
    equal(await echoThrough(tcp), "ping");
    equal(await connectVia(http, `example.test:${echo.port}`), "ping");
    equal(await connectVia(http, `nx.invalid:${echo.port}`).then((s) => /^HTTP\/1\.1 50[23]/.test(s)), true);
    match(g.stderr(), /resolve example\.test via 127\.0\.0\.1:\d+: 127\.0\.0\.1/);
    match(g.stderr(), /resolve www\.example\.test via tcp:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1/);
  } finally {
    await g?.stop();
    await dns.stop();
    echo.close();
  }
});

Deno.test({
  name:
    "resolver: tls and https nameservers, and tcp (http chain) and udp (relay chain) nameservers through chains",
  ...opts,
  fn: async () => {
    const echo = tcpEchoServer();
    const srv = await startDnsServer({ "name.test": ["127.0.0.1"] });
    const [proxy, relay, viaTls, viaDoh, viaChain, viaUdpChain] = [0, 0, 0, 0, 0, 0].map(() => freePort());
    await withDir(async (dir) => {
      const cfg = `${dir}/gost.yaml`;
      await Deno.writeTextFile(
        cfg,
        `services:
  - name: proxy
    addr: 127.0.0.1:${proxy}
    handler: {type: http}
    listener: {type: tcp}
  - name: relay
    addr: 127.0.0.1:${relay}
    handler: {type: relay}
    listener: {type: tcp}
  - name: udpchained
    addr: 127.0.0.1:${viaUdpChain}
    resolver: r-udp-chain
    handler: {type: tcp}
    listener: {type: tcp}
    forwarder: {nodes: [{name: t, addr: "name.test:${echo.port}"}]}
  - name: tls
    addr: 127.0.0.1:${viaTls}
    resolver: r-tls
    handler: {type: tcp}
    listener: {type: tcp}
    forwarder: {nodes: [{name: t, addr: "name.test:${echo.port}"}]}
  - name: doh
    addr: 127.0.0.1:${viaDoh}
    resolver: r-doh
    handler: {type: tcp}
    listener: {type: tcp}
    forwarder: {nodes: [{name: t, addr: "name.test:${echo.port}"}]}
  - name: chained
    addr: 127.0.0.1:${viaChain}
    resolver: r-chain
    handler: {type: tcp}
    listener: {type: tcp}
    forwarder: {nodes: [{name: t, addr: "name.test:${echo.port}"}]}
chains:
  - name: c0
    hops:
      - name: h0
        nodes:
          - name: n0
            addr: 127.0.0.1:${proxy}
            connector: {type: http}
            dialer: {type: tcp}
  - name: c1
    hops:
      - name: h0
        nodes:
          - name: n0
            addr: 127.0.0.1:${relay}
            connector: {type: relay}
            dialer: {type: tcp}
resolvers:
  - name: r-udp-chain
    nameservers:
      - addr: udp://127.0.0.1:${srv.udp}
        chain: c1
  - name: r-tls
    nameservers:
      - addr: tls://127.0.0.1:${srv.tls}
        hostname: dns.test
  - name: r-doh
    nameservers:
      - addr: https://127.0.0.1:${srv.https}/dns-query
  - name: r-chain
    nameservers:
      - addr: tcp://127.0.0.1:${srv.tcp}
        chain: c0
`,
      );
      const g = await startGost(["-C", cfg], 6);
      try {
        equal(await echoThrough(viaTls), "ping");
        match(srv.log.join("\n"), /tls name\.test 1/);
        equal(await echoThrough(viaDoh), "ping");
        match(srv.log.join("\n"), /https name\.test 1/);
        equal(await echoThrough(viaChain), "ping");
        match(srv.log.join("\n"), /tcp name\.test 1/);
        equal(await echoThrough(viaUdpChain), "ping");
        match(srv.log.join("\n"), /udp name\.test 1/);
        await g.waitFor(new RegExp(`"service":"relay"[^\\n]*"dst":"127\\.0\\.0\\.1:${srv.udp}"`), 5000);
        // The query went through the proxy service of the chain.
        await g.waitFor(new RegExp(`"service":"proxy"[^\\n]*"dst":"127\\.0\\.0\\.1:${srv.tcp}"`), 5000);
      } finally {
        await g.stop();
      }
    });
    await srv.close();
    echo.close();
  },
});

Deno.test("resolver/hosts: bad input is a config error naming its line and path", async () => {
  await withDir(async (dir) => {
    const cfg = `${dir}/gost.yaml`;
    await Deno.writeTextFile(
      cfg,
      `services:
  - name: s0
    addr: 127.0.0.1:0
    resolver: r0
    hosts: h0
    handler: {type: http}
    listener: {type: tcp}
resolvers:
  - name: r0
    nameservers:
      - addr: udp://1.1.1.1:53x
hosts:
  - name: h0
    file:
      path: ${dir}/missing-hosts
`,
    );
    for (const extra of [[], ["-O", "yaml"]]) {
      const r = await runGost(["-C", cfg, ...extra]);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /line 11: resolvers\[0\]\.nameservers\[0\]\.addr: malformed nameserver address/);
      match(r.stderr, /line 15: hosts\[0\]\.file\.path: cannot read hosts file/);
    }
    const r = await runGost(["-L", "http://127.0.0.1:0", "-C", cfg]);
    equal(r.code === 1 || r.code === 2, true);
  });
  const unknown = await runGost(["-L", "http://127.0.0.1:0?resolver=quic://1.1.1.1"]);
  equal(unknown.code, 1, unknown.stderr);
  match(unknown.stderr, /resolvers\[0\]\.nameservers\[0\]\.addr: unknown nameserver protocol "quic"/);
});

Deno.test({
  name: "hosts: a file is read again every reload period, and on SIGHUP without one",
  ...opts,
  fn: async () => {
    const a = tcpEchoServer(0, { greeting: "A" });
    const b = tcpEchoServer(0, { greeting: "B" });
    const [periodic, onHup] = [freePort(), freePort()];
    await withDir(async (dir) => {
      const file1 = `${dir}/hosts1`;
      const file2 = `${dir}/hosts2`;
      await Deno.writeTextFile(file1, "127.0.0.1 svc.test\n");
      await Deno.writeTextFile(file2, "127.0.0.1 svc.test\n");
      const cfg = `${dir}/gost.yaml`;
      await Deno.writeTextFile(
        cfg,
        `services:
  - name: periodic
    addr: 127.0.0.1:${periodic}
    hosts: h1
    handler: {type: http}
    listener: {type: tcp}
  - name: onhup
    addr: 127.0.0.1:${onHup}
    hosts: h2
    handler: {type: http}
    listener: {type: tcp}
hosts:
  - name: h1
    reload: 1s
    file: {path: ${file1}}
  - name: h2
    file: {path: ${file2}}
`,
      );
      const g = await startGost(["-C", cfg], 2);
      try {
        match(await connectVia(periodic, `svc.test:${a.port}`), /^A\n/);
        // A name that only the new file knows: works within the reload period.
        await Deno.writeTextFile(file1, "127.0.0.1 svc.test renamed.test\n");
        await waitUntil(
          async () => /^B\n/.test(await connectVia(periodic, `renamed.test:${b.port}`)),
          () => `renamed.test after the reload period; stderr:\n${g.stderr()}`,
          5000,
        );
        // Without a reload period the file is read again on SIGHUP.
        await Deno.writeTextFile(file2, "127.0.0.1 svc.test hup.test\n");
        equal(/^HTTP/.test(await connectVia(onHup, `hup.test:${b.port}`)), true);
        g.child.kill("SIGHUP");
        await g.waitFor(/reload: \d+ kept, [12] replaced/);
        match(await connectVia(onHup, `hup.test:${b.port}`), /^B\n/);
      } finally {
        await g.stop();
      }
    });
    a.close();
    b.close();
  },
});
