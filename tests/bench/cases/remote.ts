/**
 * Remote port forwarding (issue 6): rtcp through relay, SOCKS5 and sshd BIND, beside
 * OpenSSH's own `ssh -R` into `sshd` on the same path (client → remote port on the server
 * → back through the tunnel → target).
 *
 * The OpenSSH peer needs a host key and a client key: they are made once per run in a
 * temporary directory when `ssh-keygen` is available (the row is skipped otherwise).
 * @module
 */
import type { BenchCase } from "../types.ts";

/** Keys for the OpenSSH peer, or null when ssh-keygen is missing. */
function opensshKeys(): { dir: string } | null {
  try {
    const dir = Deno.makeTempDirSync({ prefix: "gost-bench-ssh-" });
    for (const name of ["host", "id"]) {
      const out = new Deno.Command("ssh-keygen", {
        args: ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/${name}`],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (!out.success) return null;
    }
    Deno.copyFileSync(`${dir}/id.pub`, `${dir}/authorized_keys`);
    // Run as root, sshd insists on its privilege separation directory.
    if (Deno.uid() === 0) Deno.mkdirSync("/run/sshd", { recursive: true });
    return { dir };
  } catch {
    return null;
  }
}

const keys = opensshKeys();
const user = Deno.uid() === 0 ? "root" : (Deno.env.get("USER") ?? "nobody");

const opensshPeer = keys
  ? [{
    name: "OpenSSH ssh -R",
    needs: ["ssh", "sshd"],
    commands: [
      [
        "/usr/sbin/sshd",
        ...["-D", "-e", "-f", "/dev/null", "-p", "$P1", "-o", "ListenAddress=127.0.0.1"],
        ...["-o", `HostKey=${keys.dir}/host`, "-o", `AuthorizedKeysFile=${keys.dir}/authorized_keys`],
        ...["-o", "StrictModes=no", "-o", "UsePAM=no", "-o", "PidFile=none", "-o", "AllowTcpForwarding=yes"],
        ...["-o", "PermitRootLogin=prohibit-password"],
      ],
      [
        "ssh",
        ...["-N", "-F", "/dev/null", "-i", `${keys.dir}/id`, "-o", "StrictHostKeyChecking=no"],
        ...[
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "ExitOnForwardFailure=yes",
          "-o",
          "ConnectionAttempts=10",
        ],
        ...["-p", "$P1", "-R", "127.0.0.1:$ENTRY:127.0.0.1:$TARGET", `${user}@127.0.0.1`],
      ],
    ],
  }]
  : [];

const MEASURES: BenchCase["measure"] = ["throughput1", "throughput4", "reverse", "connRate", "idleMemory"];

export const cases: BenchCase[] = [
  {
    name: "rtcp via relay bind",
    gost: [
      ["-L", "relay://127.0.0.1:$P1?bind=true"],
      ["-L", "rtcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "relay://127.0.0.1:$P1"],
    ],
    measure: MEASURES,
  },
  {
    name: "rtcp via socks5 bind",
    gost: [
      ["-L", "socks5://127.0.0.1:$P1?bind=true"],
      ["-L", "rtcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "socks5://127.0.0.1:$P1"],
    ],
    measure: MEASURES,
  },
  {
    name: "rtcp via sshd",
    gost: [
      ["-L", "sshd://bench:bench@127.0.0.1:$P1"],
      ["-L", "rtcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "sshd://bench:bench@127.0.0.1:$P1"],
    ],
    peers: opensshPeer,
    measure: MEASURES,
  },
];
