/**
 * The processes a soak runs against, all on 127.0.0.1: the echo target (its own process), the
 * gost under test (tcp forward, http proxy, relay+tls, relay+ws, relay+kcp), and a second
 * gost as the legitimate client of the tls, ws and kcp listeners.
 * @module
 */
import {
  forwardServiceYaml,
  freePorts,
  freeUdpPort,
  type GostProcess,
  spawnGost,
  spawnProcess,
  waitForPort,
} from "../_helpers.ts";

/** Ports and processes of a running soak. */
export interface Rig {
  echoPort: number;
  /** gost under test: tcp forward to the echo, http proxy, relay over tls / ws / kcp. */
  forward: number;
  http: number;
  tls: number;
  ws: number;
  kcp: number;
  /** The client gost's forwards to the echo through relay+tls, relay+ws, relay+kcp. */
  viaTls: number;
  viaWs: number;
  viaKcp: number;
  server: GostProcess;
  client: GostProcess;
  /** Kills the echo target (SIGKILL) and starts it again on the same port. */
  restartEcho(): Promise<void>;
  killEcho(): void;
  stop(): Promise<void>;
}

const ECHO = new URL("./echo.ts", import.meta.url).pathname;

async function startEcho(port: number): Promise<GostProcess> {
  const p = spawnProcess(Deno.execPath(), ["run", "--allow-net=127.0.0.1", ECHO, String(port)]);
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (p.stdout.includes("echo ready")) {
        clearInterval(t);
        resolve();
      }
    }, 20);
    setTimeout(() => {
      clearInterval(t);
      reject(new Error(`echo did not start: ${p.stderr()}`));
    }, 15_000);
  });
  return p;
}

function relayService(name: string, port: number, listener: string): string {
  return `  - name: ${name}
    addr: 127.0.0.1:${port}
    handler:
      type: relay
    listener:
      type: ${listener}
`;
}

function relayChain(name: string, port: number, dialer: string): string {
  return `  - name: ${name}
    hops:
      - name: hop-${name}
        nodes:
          - name: n
            addr: 127.0.0.1:${port}
            connector:
              type: relay
            dialer:
              type: ${dialer}
`;
}

/** Starts the echo, the gost under test and the client gost; `dir` holds their configs. */
export async function startRig(dir: string): Promise<Rig> {
  const [echoPort, fwd, http, tls, ws, viaTls, viaWs, viaKcp] = freePorts(8);
  const kcp = freeUdpPort();
  let echo = await startEcho(echoPort);
  const serverYaml = `log:\n  level: error\nservices:\n${
    forwardServiceYaml("fwd", fwd, echoPort)
  }  - name: http
    addr: 127.0.0.1:${http}
    handler:
      type: http
    listener:
      type: tcp
${relayService("relay-tls", tls, "tls")}${relayService("relay-ws", ws, "ws")}${
    relayService("relay-kcp", kcp, "kcp")
  }`;
  const clientYaml = `log:\n  level: error\nservices:\n${
    forwardServiceYaml("via-tls", viaTls, echoPort, "c-tls")
  }${forwardServiceYaml("via-ws", viaWs, echoPort, "c-ws")}${
    forwardServiceYaml("via-kcp", viaKcp, echoPort, "c-kcp")
  }chains:\n${relayChain("c-tls", tls, "tls")}${relayChain("c-ws", ws, "ws")}${
    relayChain("c-kcp", kcp, "kcp")
  }`;
  await Deno.writeTextFile(`${dir}/server.yaml`, serverYaml);
  await Deno.writeTextFile(`${dir}/client.yaml`, clientYaml);
  const server = spawnGost(["-C", `${dir}/server.yaml`]);
  const client = spawnGost(["-C", `${dir}/client.yaml`]);
  try {
    // Logs are at "error" (a line per connection would cost more than the probes): wait for the ports.
    for (const p of [fwd, http, tls, ws, viaTls, viaWs, viaKcp]) await waitForPort(p, 30_000);
  } catch (err) {
    await Promise.all([server.stop(), client.stop(), echo.stop()]);
    throw err;
  }
  return {
    echoPort,
    forward: fwd,
    http,
    tls,
    ws,
    kcp,
    viaTls,
    viaWs,
    viaKcp,
    server,
    client,
    killEcho() {
      echo.child.kill("SIGKILL");
    },
    async restartEcho() {
      await echo.stop();
      echo = await startEcho(echoPort);
    },
    async stop() {
      await Promise.all([server.stop(), client.stop(), echo.stop()]);
    },
  };
}
