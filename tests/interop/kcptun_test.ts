/**
 * Interop with Debian's kcptun (20210922): its client against our kcp listener, and our
 * kcp dialer against its server, 10 MiB each way with a checksum; then the other ciphers,
 * FEC off, nocomp and smux v2 with 1 MiB each.
 */
import assert from "node:assert/strict";
import { rootLogger } from "../../src/core/log.ts";
import { socketDuplex } from "../../src/core/socket.ts";
import { echoThrough, kcpDialer, kcpForwardServer } from "./_kcp_helpers.ts";
import { freePort, freeUdpPort, peerTest, randomBytes, sha256, tcpEchoServer } from "../_helpers.ts";

const log = rootLogger.with({ test: "kcptun" });

async function waitTcp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

function spawn(cmd: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).spawn();
}

async function stop(p: Deno.ChildProcess): Promise<string> {
  try {
    p.kill("SIGTERM");
  } catch { /* already gone */ }
  const out = await p.output();
  return new TextDecoder().decode(out.stderr).slice(-2000);
}

/** kcptun flags and our metadata for the same settings. */
interface Variant {
  name: string;
  flags: string[];
  md: Record<string, string>;
  size: number;
}

const KEY = "it's a secrect";
const variants: Variant[] = [
  { name: "defaults (aes, fec 10/3, snappy, smux v1)", flags: [], md: {}, size: 10 << 20 },
  { name: "salsa20", flags: ["--crypt", "salsa20"], md: { "kcp.crypt": "salsa20" }, size: 1 << 20 },
  { name: "aes-128", flags: ["--crypt", "aes-128"], md: { "kcp.crypt": "aes-128" }, size: 1 << 20 },
  { name: "aes-192", flags: ["--crypt", "aes-192"], md: { "kcp.crypt": "aes-192" }, size: 1 << 20 },
  { name: "xor", flags: ["--crypt", "xor"], md: { "kcp.crypt": "xor" }, size: 1 << 20 },
  {
    name: "none, nocomp, no FEC, fast3",
    flags: ["--crypt", "none", "--nocomp", "--ds", "0", "--ps", "0", "--mode", "fast3"],
    md: { "kcp.crypt": "none", "kcp.nocomp": "true", "kcp.datashard": "0", "kcp.parityshard": "0" },
    size: 1 << 20,
  },
  { name: "smux v2", flags: ["--smuxver", "2"], md: { "kcp.smuxver": "2" }, size: 1 << 20 },
];

for (const v of variants) {
  peerTest(`kcptun-client -> gost-deno kcp listener: ${v.name}`, ["kcptun-client"], async () => {
    const echo = tcpEchoServer();
    const server = await kcpForwardServer({ "kcp.key": KEY, ...v.md }, echo.port);
    const local = freePort();
    const kc = spawn("kcptun-client", [
      "-l",
      `127.0.0.1:${local}`,
      "-r",
      server.addr,
      "--key",
      KEY,
      "--quiet",
      ...v.flags,
    ]);
    try {
      await waitTcp(local);
      const data = randomBytes(v.size, 7);
      const conn = socketDuplex(await Deno.connect({ hostname: "127.0.0.1", port: local }));
      const back = await echoThrough(conn, data);
      assert.equal(await sha256(back), await sha256(data));
      assert.ok(server.sessionCount >= 1);
    } finally {
      const err = await stop(kc);
      server.close();
      echo.close();
      if (Deno.env.get("KCP_DEBUG")) console.log(err);
    }
  });

  peerTest(`gost-deno kcp dialer -> kcptun-server: ${v.name}`, ["kcptun-server"], async () => {
    const echo = tcpEchoServer();
    const port = freeUdpPort();
    const ks = spawn("kcptun-server", [
      "-l",
      `127.0.0.1:${port}`,
      "-t",
      `127.0.0.1:${echo.port}`,
      "--key",
      KEY,
      "--quiet",
      ...v.flags,
    ]);
    const dialer = kcpDialer({ "kcp.key": KEY, ...v.md });
    try {
      await new Promise((r) => setTimeout(r, 300)); // key derivation, then the UDP bind
      const data = randomBytes(v.size, 9);
      const stream = await dialer.dial(`127.0.0.1:${port}`, { log });
      const back = await echoThrough(stream, data);
      assert.equal(await sha256(back), await sha256(data));
      // A second stream rides the same session.
      const again = await echoThrough(
        await dialer.dial(`127.0.0.1:${port}`, { log }),
        data.subarray(0, 1000),
      );
      assert.deepEqual(again, data.subarray(0, 1000));
    } finally {
      dialer.close();
      await stop(ks);
      echo.close();
    }
  });
}
