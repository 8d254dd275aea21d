/**
 * Against a real gost 3 binary (GOST_BIN): its http/socks5/relay connectors against our
 * handlers and our connectors against its handlers, TCP and UDP (relay, SOCKS5 UDP-over-TCP,
 * HTTP UDP), and relay chains with nodelay both ways. Skipped with a message when GOST_BIN is
 * unset; under CI=true a missing binary is a failure only if GOST_BIN was asked for.
 */
import assert from "node:assert/strict";
import {
  freePort,
  randomBytes,
  sha256,
  startGost,
  startProcess,
  tcpEchoServer,
  tcpRoundTrip,
  udpEchoServer,
  udpRoundTrip,
} from "../_helpers.ts";

const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";
const dec = new TextDecoder();
if (!GOST_BIN) console.warn("SKIP gost_proxy_test: set GOST_BIN=/path/to/gost (a gost 3 binary) to run it");

/** Starts the real gost and waits until each of `ports` accepts a TCP connection. */
const realGost = (args: string[], ports: number[]) => startProcess(GOST_BIN, args, ports);

function gostTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: !GOST_BIN, sanitizeOps: false, sanitizeResources: false, fn });
}

/** Checks TCP (1 MB) and, when `udpPort` is given, one UDP exchange. */
async function check(tcpPort: number, udpPort?: number) {
  const data = randomBytes(1_000_000, 21);
  assert.equal(await sha256(await tcpRoundTrip(tcpPort, data)), await sha256(data));
  if (udpPort) assert.equal(dec.decode((await udpRoundTrip(udpPort, "hello"))!), "echo:hello");
}

for (
  const [scheme, server] of [
    ["http", "http://user:pass@127.0.0.1:$P?udp=true"],
    ["socks5", "socks5://user:pass@127.0.0.1:$P?udp=true"],
    ["relay", "relay://user:pass@127.0.0.1:$P"],
    ["relay?nodelay=true", "relay://user:pass@127.0.0.1:$P?nodelay=true"],
  ] as const
) {
  gostTest(`real gost ${scheme} connector -> our handler (TCP + UDP)`, async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [p, lp, up] = [freePort(), freePort(), freePort()];
    const ours = await startGost(["-L", server.replace("$P", String(p))]);
    const node = `${scheme.replace(/\?.*/, "")}://user:pass@127.0.0.1:${p}${
      scheme.includes("?") ? "?" + scheme.split("?")[1] : ""
    }`;
    const theirs = await realGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-L",
      `udp://127.0.0.1:${up}/127.0.0.1:${uecho.port}`,
      "-F",
      node,
    ], [lp]);
    try {
      await check(lp, up);
    } finally {
      await theirs.stop();
      await ours.stop();
      echo.close();
      uecho.close();
    }
  });

  gostTest(`our ${scheme} connector -> real gost handler (TCP + UDP)`, async () => {
    const echo = tcpEchoServer();
    const uecho = udpEchoServer("echo:");
    const [p, lp, up] = [freePort(), freePort(), freePort()];
    const theirs = await realGost(["-L", server.replace("$P", String(p))], [p]);
    const node = `${scheme.replace(/\?.*/, "")}://user:pass@127.0.0.1:${p}${
      scheme.includes("?") ? "?" + scheme.split("?")[1] : ""
    }`;
    const ours = await startGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-L",
      `udp://127.0.0.1:${up}/127.0.0.1:${uecho.port}`,
      "-F",
      node,
    ], 2);
    try {
      await check(lp, up);
    } finally {
      await ours.stop();
      await theirs.stop();
      echo.close();
      uecho.close();
    }
  });
}

gostTest(
  "relay chain mixing real gost and gost-deno hops, nodelay both ways, server-speaks-first target",
  async () => {
    const banner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    (async () => {
      for await (const c of banner) {
        await c.write(new TextEncoder().encode("220 banner\r\n"));
        c.close();
      }
    })().catch(() => {});
    const [a, b, lp] = [freePort(), freePort(), freePort()];
    const realHop = await realGost(["-L", `relay://127.0.0.1:${a}?nodelay=true`], [a]);
    const ourHop = await startGost(["-L", `relay://127.0.0.1:${b}?nodelay=true`]);
    const entry = await realGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${(banner.addr as Deno.NetAddr).port}`,
      "-F",
      `relay://127.0.0.1:${a}?nodelay=true`,
      "-F",
      `relay://127.0.0.1:${b}?nodelay=true`,
    ], [lp]);
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: lp });
      const buf = new Uint8Array(64);
      const n = await c.read(buf);
      assert.equal(dec.decode(buf.subarray(0, n!)), "220 banner\r\n");
      c.close();
    } finally {
      await entry.stop();
      await ourHop.stop();
      await realHop.stop();
      banner.close();
    }
  },
);

gostTest(
  "socks5: our handler accepts real gost's TLS-offering client (methods 00 80 / 00 02 80 82)",
  async () => {
    const echo = tcpEchoServer();
    const [p, lp] = [freePort(), freePort()];
    const ours = await startGost(["-L", `socks5://user:pass@127.0.0.1:${p}`]);
    // No notls on the gost side: it offers its private TLS methods; we pick 0x02.
    const theirs = await realGost([
      "-L",
      `tcp://127.0.0.1:${lp}/127.0.0.1:${echo.port}`,
      "-F",
      `socks5://user:pass@127.0.0.1:${p}`,
    ], [lp]);
    try {
      await check(lp);
    } finally {
      await theirs.stop();
      await ours.stop();
      echo.close();
    }
  },
);
