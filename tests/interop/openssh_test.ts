/**
 * SSH interoperability with Debian's OpenSSH, both ways:
 * - our `sshd` dialer/connector against a real `/usr/sbin/sshd` (started here on a loopback
 *   port with its own host key, config and authorized_keys; key auth, with and without a
 *   passphrase): local forwarding (direct-tcpip) and rtcp through tcpip-forward;
 * - our `sshd` listener/handler against the `ssh` client: `-L`, `-R`, `-D` with password
 *   (fed through SSH_ASKPASS) and with authorizedKeys; refusals for bad credentials, a shell
 *   request and a garbage banner;
 * - each AEAD cipher (AES-128/256-GCM, chacha20-poly1305) forced on each side, on libcrypto.
 * @module
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/types.ts";
import {
  freePort,
  peerTest,
  randomBytes,
  sha256,
  tcpEchoServer,
  tcpRoundTrip,
  waitForPort,
  waitUntil,
} from "../_helpers.ts";
import { startConfig } from "../_runtime.ts";
import { NATIVE_CIPHERS } from "../../src/protocol/ssh/ssh2.ts";

const SSHD = "/usr/sbin/sshd";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Runs `config` in this process, collecting its log lines at debug level. */
const run = (config: Config) => startConfig(config, "debug");

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
}

/** Key material in a fresh directory: a host key, a plain and a passphrase-protected client key. */
async function keys() {
  const dir = await Deno.makeTempDir({ prefix: "gost-ssh-" });
  await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host`]);
  await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/id`]);
  await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "s3cret", "-f", `${dir}/idp`]);
  await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/stranger`]);
  const pubs = (await Deno.readTextFile(`${dir}/id.pub`)) + (await Deno.readTextFile(`${dir}/idp.pub`));
  await Deno.writeTextFile(`${dir}/authorized_keys`, pubs);
  return dir;
}

/** A real OpenSSH server as a child process, key auth only; `extra` lines win over its defaults. */
async function startOpenSshd(dir: string, extra: string[] = []) {
  const port = freePort();
  // Run as root, sshd insists on its privilege separation directory.
  if (Deno.uid() === 0) await Deno.mkdir("/run/sshd", { recursive: true });
  await Deno.writeTextFile(
    `${dir}/sshd_config`,
    [
      ...extra, // first: sshd keeps the first value of a keyword
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host`,
      "PidFile none",
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "AllowTcpForwarding yes",
      "PermitRootLogin prohibit-password",
      "LogLevel VERBOSE",
    ].join("\n") + "\n",
  );
  const child = new Deno.Command(SSHD, {
    args: ["-D", "-e", "-f", `${dir}/sshd_config`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  (async () => {
    for await (const c of child.stderr) log += decoder.decode(c);
  })().catch(() => {});
  await waitForPort(port);
  return {
    port,
    log: () => log,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

const user = Deno.env.get("USER") ?? (Deno.uid() === 0 ? "root" : "nobody");

function sshdNode(
  port: number,
  metadata: Record<string, unknown>,
  auth?: { username: string; password?: string },
) {
  return {
    name: "c",
    hops: [{
      name: "hop-0",
      nodes: [{
        name: "node-0",
        addr: `127.0.0.1:${port}`,
        connector: { type: "sshd" },
        dialer: { type: "sshd", auth: auth ?? { username: user }, metadata },
      }],
    }],
  };
}

peerTest(
  "openssh: sshd dialer/connector forward through a real sshd (key, key+passphrase, shared connection)",
  [
    "sshd",
    "ssh-keygen",
  ],
  async () => {
    const dir = await keys();
    const sshd = await startOpenSshd(dir);
    const echo = tcpEchoServer();
    const p1 = freePort(), p2 = freePort();
    const rt = await run({
      services: [
        {
          name: "plain",
          addr: `127.0.0.1:${p1}`,
          handler: { type: "tcp", chain: "c" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        },
        {
          name: "pass",
          addr: `127.0.0.1:${p2}`,
          handler: { type: "tcp", chain: "cp" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        },
      ],
      chains: [
        sshdNode(sshd.port, { privateKeyFile: `${dir}/id` }),
        { ...sshdNode(sshd.port, { privateKeyFile: `${dir}/idp`, passphrase: "s3cret" }), name: "cp" },
      ],
    });
    try {
      const data = randomBytes(1 << 20, 7);
      const want = await sha256(data);
      assert.equal(await sha256(await tcpRoundTrip(p1, data)), want);
      assert.equal(await sha256(await tcpRoundTrip(p2, data)), want);
      // Ten concurrent connections: all channels of one SSH connection per node.
      const many = await Promise.all(
        Array.from({ length: 10 }, (_, i) => tcpRoundTrip(p1, randomBytes(50_000, i + 1))),
      );
      for (let i = 0; i < 10; i++) {
        assert.equal(
          await sha256(many[i]),
          await sha256(randomBytes(50_000, i + 1)),
        );
      }
      const logins = sshd.log().match(/Accepted publickey/g) ?? [];
      assert.equal(logins.length, 2, `one login per node, got:\n${sshd.log()}`);
    } finally {
      await rt.close();
      echo.close();
      await sshd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

peerTest("openssh: rtcp through a real sshd's tcpip-forward", ["sshd", "ssh-keygen"], async () => {
  const dir = await keys();
  const sshd = await startOpenSshd(dir);
  const echo = tcpEchoServer();
  const remotePort = freePort();
  const rt = await run({
    services: [{
      name: "r",
      addr: `127.0.0.1:${remotePort}`,
      handler: { type: "rtcp" },
      listener: { type: "rtcp", chain: "c" },
      forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
    }],
    chains: [sshdNode(sshd.port, { privateKeyFile: `${dir}/id` })],
  });
  try {
    await waitForPort(remotePort);
    const data = randomBytes(300_000, 3);
    assert.equal(await sha256(await tcpRoundTrip(remotePort, data)), await sha256(data));
    assert.match(sshd.log(), /tcpip-forward|remote forward|Accepted publickey/);
  } finally {
    await rt.close();
    echo.close();
    await sshd.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

peerTest("openssh: a key the server does not know, and UDP through sshd, fail with clear messages", [
  "sshd",
  "ssh-keygen",
], async () => {
  const dir = await keys();
  const sshd = await startOpenSshd(dir);
  const p1 = freePort(), p2 = freePort();
  const rt = await run({
    services: [
      {
        name: "bad",
        addr: `127.0.0.1:${p1}`,
        handler: { type: "tcp", chain: "c" },
        listener: { type: "tcp" },
        forwarder: { nodes: [{ name: "t", addr: "127.0.0.1:9" }] },
      },
      {
        name: "udp",
        addr: `127.0.0.1:${p2}`,
        handler: { type: "udp", chain: "ok" },
        listener: { type: "udp" },
        forwarder: { nodes: [{ name: "t", addr: "127.0.0.1:9" }] },
      },
    ],
    chains: [
      sshdNode(sshd.port, { privateKeyFile: `${dir}/stranger` }),
      { ...sshdNode(sshd.port, { privateKeyFile: `${dir}/id` }), name: "ok" },
    ],
  });
  try {
    const got = await tcpRoundTrip(p1, encoder.encode("hello"));
    assert.equal(got.length, 0);
    await waitUntil(() => rt.logs.some((l) => /authentication failed/.test(l)), "auth failure log");
    const u = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    await u.send(encoder.encode("x"), { transport: "udp", hostname: "127.0.0.1", port: p2 });
    await waitUntil(() => rt.logs.some((l) => /cannot carry UDP/.test(l)), "udp refusal log");
    u.close();
  } finally {
    await rt.close();
    await sshd.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- our sshd listener/handler, driven by the OpenSSH client ----

/** Runs `ssh` with a password supplied through SSH_ASKPASS (no terminal needed). */
async function sshClient(dir: string, args: string[], password?: string) {
  const askpass = `${dir}/askpass.sh`;
  await Deno.writeTextFile(askpass, `#!/bin/sh\necho '${password ?? ""}'\n`, { mode: 0o700 });
  const child = new Deno.Command("ssh", {
    args: [
      "-F",
      "/dev/null",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "NumberOfPasswordPrompts=1",
      ...args,
    ],
    env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const drained = Promise.all([
    (async () => {
      for await (const c of child.stderr) err += decoder.decode(c);
    })(),
    (async () => {
      for await (const _ of child.stdout) { /* discard */ }
    })(),
  ]).catch(() => {});
  return {
    stderr: () => err,
    status: child.status,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
      await drained;
    },
  };
}

/** A SOCKS5 CONNECT by hand (what an application does through `ssh -D`). */
async function socks5Echo(port: number, target: number, data: Uint8Array): Promise<Uint8Array> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const readN = async (n: number) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const r = await c.read(out.subarray(off));
      if (r === null) throw new Error("socks closed");
      off += r;
    }
    return out;
  };
  await c.write(new Uint8Array([5, 1, 0]));
  assert.deepEqual(await readN(2), new Uint8Array([5, 0]));
  await c.write(new Uint8Array([5, 1, 0, 1, 127, 0, 0, 1, target >> 8, target & 255]));
  const rep = await readN(10);
  assert.equal(rep[1], 0, "socks reply ok");
  await c.write(data);
  const back = await readN(data.length);
  c.close();
  return back;
}

function sshdService(port: number, metadata: Record<string, unknown> = {}) {
  return {
    name: "sshd",
    addr: `127.0.0.1:${port}`,
    handler: { type: "sshd" },
    listener: { type: "sshd", auth: { username: "gost", password: "pa55" }, metadata },
  };
}

peerTest("openssh client: ssh -N -L / -R / -D against our sshd with a password", ["ssh"], async () => {
  const dir = await keys();
  const echo = tcpEchoServer();
  const port = freePort();
  const rt = await run({ services: [sshdService(port, { privateKeyFile: `${dir}/host` })] });
  const lport = freePort(), rport = freePort(), dport = freePort();
  const ssh = await sshClient(dir, [
    "-N",
    "-o",
    "PubkeyAuthentication=no",
    "-o",
    "PreferredAuthentications=password",
    "-p",
    String(port),
    "-L",
    `127.0.0.1:${lport}:127.0.0.1:${echo.port}`,
    "-R",
    `127.0.0.1:${rport}:127.0.0.1:${echo.port}`,
    "-D",
    `127.0.0.1:${dport}`,
    "gost@127.0.0.1",
  ], "pa55");
  try {
    await waitForPort(lport);
    await waitForPort(rport);
    const data = randomBytes(500_000, 11);
    const want = await sha256(data);
    assert.equal(await sha256(await tcpRoundTrip(lport, data)), want, "ssh -L");
    assert.equal(await sha256(await tcpRoundTrip(rport, data)), want, "ssh -R");
    const small = randomBytes(20_000, 12);
    assert.deepEqual(await socks5Echo(dport, echo.port, small), small, "ssh -D");
    // Concurrent -L connections do not block each other.
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => tcpRoundTrip(lport, randomBytes(30_000, i + 40))),
    );
    for (let i = 0; i < 8; i++) assert.equal(many[i].length, 30_000);
    // A destination that refuses: the channel open fails, the ssh client says so, we log it.
    const dead = freePort();
    const l2 = freePort();
    const ssh2 = await sshClient(dir, [
      "-N",
      "-o",
      "PreferredAuthentications=password",
      "-p",
      String(port),
      "-L",
      `127.0.0.1:${l2}:127.0.0.1:${dead}`,
      "gost@127.0.0.1",
    ], "pa55");
    await waitForPort(l2);
    // OpenSSH ends (or resets) the local connection once the open is refused.
    const refused = await tcpRoundTrip(l2, encoder.encode("x")).catch(() => new Uint8Array(0));
    assert.equal(refused.length, 0);
    await waitUntil(() => /open failed/.test(ssh2.stderr()), "ssh reports the failed open");
    await waitUntil(() => rt.logs.some((l) => l.includes("direct-tcpip") && l.includes(String(dead))), "log");
    await ssh2.stop();
  } finally {
    await ssh.stop();
    await rt.close();
    echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

peerTest("openssh client: authorizedKeys login; wrong password, shell and garbage banner refused", [
  "ssh",
  "ssh-keygen",
], async () => {
  const dir = await keys();
  const echo = tcpEchoServer();
  const port = freePort();
  const rt = await run({ services: [sshdService(port, { authorizedKeys: `${dir}/authorized_keys` })] });
  try {
    // Key login with -L.
    const lport = freePort();
    const ssh = await sshClient(dir, [
      "-N",
      "-i",
      `${dir}/id`,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "PreferredAuthentications=publickey",
      "-p",
      String(port),
      "-L",
      `127.0.0.1:${lport}:127.0.0.1:${echo.port}`,
      "anyone@127.0.0.1",
    ]);
    await waitForPort(lport);
    assert.deepEqual(await tcpRoundTrip(lport, encoder.encode("by key")), encoder.encode("by key"));
    await ssh.stop();

    // Wrong password: ssh exits non-zero, we log the cause.
    const bad = await sshClient(dir, [
      "-N",
      "-o",
      "PubkeyAuthentication=no",
      "-o",
      "PreferredAuthentications=password",
      "-p",
      String(port),
      "gost@127.0.0.1",
    ], "nope");
    const st = await bad.status;
    await bad.stop();
    assert.notEqual(st.code, 0);
    assert.match(bad.stderr(), /Permission denied/);
    assert.ok(rt.logs.some((l) => /wrong user name or password/.test(l)));

    // A shell (session channel) is refused politely, the connection stays usable.
    const shell = await sshClient(dir, [
      "-i",
      `${dir}/id`,
      "-o",
      "IdentitiesOnly=yes",
      "-p",
      String(port),
      "anyone@127.0.0.1",
      "true",
    ]);
    const sst = await shell.status;
    await shell.stop();
    assert.notEqual(sst.code, 0);
    assert.match(shell.stderr(), /open failed|administratively prohibited|refused/i);

    // A garbage banner: closed within the deadline with a log line naming it.
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buf = new Uint8Array(1024);
    const t0 = Date.now();
    try {
      while ((await c.read(buf)) !== null) { /* server banner, then close */ }
    } catch { /* reset */ }
    c.close();
    assert.ok(Date.now() - t0 < 5000, "closed promptly");
    await waitUntil(() => rt.logs.some((l) => /not an SSH client/.test(l)), "garbage banner log");

    // The service is still fine.
    const l3 = freePort();
    const again = await sshClient(dir, [
      "-N",
      "-i",
      `${dir}/id`,
      "-o",
      "IdentitiesOnly=yes",
      "-p",
      String(port),
      "-L",
      `127.0.0.1:${l3}:127.0.0.1:${echo.port}`,
      "x@127.0.0.1",
    ]);
    await waitForPort(l3);
    assert.deepEqual(await tcpRoundTrip(l3, encoder.encode("still")), encoder.encode("still"));
    await again.stop();
  } finally {
    await rt.close();
    echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

peerTest(
  "gost sshd connector against our own sshd listener: password login, -F sshd:// forwarding and bind",
  [
    "ssh-keygen",
  ],
  async () => {
    const echo = tcpEchoServer();
    const port = freePort(), p1 = freePort(), rport = freePort();
    const server = await run({ services: [sshdService(port)] });
    const client = await run({
      services: [
        {
          name: "fwd",
          addr: `127.0.0.1:${p1}`,
          handler: { type: "tcp", chain: "c" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        },
        {
          name: "r",
          addr: `127.0.0.1:${rport}`,
          handler: { type: "rtcp" },
          listener: { type: "rtcp", chain: "c" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        },
      ],
      chains: [sshdNode(port, {}, { username: "gost", password: "pa55" })],
    });
    try {
      const data = randomBytes(200_000, 5);
      assert.equal(await sha256(await tcpRoundTrip(p1, data)), await sha256(data));
      await waitForPort(rport);
      assert.equal(await sha256(await tcpRoundTrip(rport, data)), await sha256(data));
    } finally {
      await client.close();
      await server.close();
      echo.close();
    }
  },
);

// ---- each AEAD cipher, forced on the OpenSSH side, both ways ----

const AEADS = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"];

peerTest("openssh: each AEAD cipher, forced by sshd and by ssh, carries data both ways", [
  "sshd",
  "ssh",
  "ssh-keygen",
], async () => {
  // This process may load libcrypto (tests run with -A): every cipher below runs on it.
  assert.deepEqual(NATIVE_CIPHERS, { native: true, chacha20: true });
  const dir = await keys();
  const echo = tcpEchoServer();
  const data = randomBytes(1 << 20, 21);
  const want = await sha256(data);
  try {
    for (const cipher of AEADS) {
      // Our client (sshd dialer) against a sshd that offers only `cipher`.
      // RekeyLimit: new keys every 256 KiB, so the 1 MiB each way also crosses key changes.
      const sshd = await startOpenSshd(dir, [`Ciphers ${cipher}`, "RekeyLimit 256K", "LogLevel DEBUG1"]);
      const p1 = freePort();
      const rt = await run({
        services: [{
          name: "fwd",
          addr: `127.0.0.1:${p1}`,
          handler: { type: "tcp", chain: "c" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        }],
        chains: [sshdNode(sshd.port, { privateKeyFile: `${dir}/id` })],
      });
      try {
        assert.equal(await sha256(await tcpRoundTrip(p1, data)), want, `dialer, ${cipher}`);
        assert.match(sshd.log(), new RegExp(`cipher: ${cipher.replace(".", "\\.")}`), `sshd used ${cipher}`);
        assert.ok((sshd.log().match(/SSH2_MSG_NEWKEYS received/g) ?? []).length > 1, "sshd rekeyed");
      } finally {
        await rt.close();
        await sshd.stop();
      }

      // The ssh client, asking for `cipher`, against our sshd listener.
      const port = freePort(), lport = freePort();
      const srv = await run({ services: [sshdService(port, { privateKeyFile: `${dir}/host` })] });
      const ssh = await sshClient(dir, [
        "-v",
        "-N",
        ...["-c", cipher, "-o", "RekeyLimit=256K"],
        ...["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"],
        ...["-p", String(port), "-L", `127.0.0.1:${lport}:127.0.0.1:${echo.port}`, "gost@127.0.0.1"],
      ], "pa55");
      try {
        await waitForPort(lport);
        assert.equal(await sha256(await tcpRoundTrip(lport, data)), want, `listener, ${cipher}`);
        assert.match(ssh.stderr(), new RegExp(`server->client cipher: ${cipher.replace(".", "\\.")}`));
        assert.ok((ssh.stderr().match(/SSH2_MSG_NEWKEYS received/g) ?? []).length > 1, "ssh rekeyed");
      } finally {
        await ssh.stop();
        await srv.close();
      }
    }
  } finally {
    echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
