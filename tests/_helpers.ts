/**
 * Shared test helpers: free ports, the real CLI as a child process, echo servers, and
 * peers from Debian packages (skipped locally when missing, a failure under CI=true).
 * @module
 */
import { GOST_RUN_FLAGS } from "../scripts/permissions.ts";
import { concat } from "../src/core/bytes.ts";
import { NATIVE_LIBRARIES } from "../src/core/ffi.ts";
import type { Duplex } from "../src/core/duplex.ts";
import { socketDuplex } from "../src/core/socket.ts";

export const ROOT = new URL("../", import.meta.url).pathname;
export const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
export const IN_CI = Deno.env.get("CI") === "true";
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Ports handed to tests come from below the kernel's ephemeral range (32768–60999 on Linux), in
 * order from a random start, each one once per run. Asking the kernel for port 0 and closing it
 * (the old way) returned ports the kernel could hand out again at once — to another test's port-0
 * request or to an outgoing connection — before the child process bound them: "Address already in
 * use", a few times per CI run.
 */
const PORT_RANGE = { first: 20_000, last: 32_000 };
let nextPort = PORT_RANGE.first + Math.floor(Math.random() * (PORT_RANGE.last - PORT_RANGE.first));

function canBind(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    // Without the unstable `net` feature (a script outside this project's deno.json) there is no UDP.
    if (typeof Deno.listenDatagram === "function") {
      Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
    }
    return true;
  } catch {
    return false;
  }
}

/** A port free for TCP and UDP on 127.0.0.1, not handed out before in this run. */
export function freePort(): number {
  for (let tries = 0; tries <= PORT_RANGE.last - PORT_RANGE.first; tries++) {
    const port = nextPort;
    nextPort = port >= PORT_RANGE.last ? PORT_RANGE.first : port + 1;
    if (canBind(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

/** `n` distinct free ports (see {@linkcode freePort}). */
export function freePorts(n: number): number[] {
  return Array.from({ length: n }, freePort);
}

/** A port free for UDP (and TCP) on 127.0.0.1 (see {@linkcode freePort}). */
export function freeUdpPort(): number {
  return freePort();
}

/**
 * True when libcrypto is installed at one of the paths gost is granted FFI for. Otherwise a
 * test of the native path is skipped with a message locally and fails under CI=true.
 */
export function haveLibcrypto(): boolean {
  const found = NATIVE_LIBRARIES.libcrypto.some((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (found) return true;
  if (IN_CI) throw new Error("no libcrypto at any path of NATIVE_LIBRARIES");
  console.log("SKIP: no libcrypto at a listed path");
  return false;
}

/** Finds a program on PATH. */
export function which(cmd: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = `${dir}/${cmd}`;
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * Declares a test that needs external programs. Missing ones: skipped with a visible
 * message locally, a failing test under CI=true.
 */
export function peerTest(name: string, peers: string[], fn: () => Promise<void>): void {
  const missing = peers.filter((p) => !which(p));
  if (missing.length && !IN_CI) {
    console.warn(`SKIP ${name}: needs ${missing.join(", ")} (install them or run under CI=true)`);
  }
  Deno.test({
    name,
    ignore: missing.length > 0 && !IN_CI,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      if (missing.length) throw new Error(`missing peer programs: ${missing.join(", ")}`);
      await fn();
    },
  });
}

/** A running gost child process; `await using` stops it at the end of the scope. */
export interface GostProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Waits until stderr contains `text` (or rejects after `ms`). */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  /** SIGTERM, then waits for exit; returns the exit code. */
  stop(): Promise<number>;
  /** Waits for exit on its own (for commands that should exit). */
  status(): Promise<Deno.CommandStatus>;
}

/** Options for {@link spawnProcess} and {@link spawnGost}. */
export interface SpawnOptions {
  /** Written to the child's standard input, which is then closed (default: no stdin). */
  stdin?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Deno flags added to the project's own for gost run from source (e.g. `--allow-ffi`). */
  denoFlags?: string[];
}

/**
 * Runs `cmd` (gost from source, the real gost, a peer program) with its stdout and stderr
 * collected, as a {@link GostProcess}: wait for its output, stop it, or wait for its exit.
 */
export function spawnProcess(
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
  name = cmd.split("/").pop(),
): GostProcess & { stdout: string } {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    w.write(encoder.encode(opts.stdin)).then(() => w.close()).catch(() => {});
  }
  let err = "";
  let out = "";
  const waiters: (() => void)[] = [];
  const pump = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    for await (const chunk of s) {
      onText(decoder.decode(chunk));
      for (const w of waiters.splice(0)) w();
    }
  };
  const pumps = Promise.all([pump(child.stderr, (t) => err += t), pump(child.stdout, (t) => out += t)]);
  let statusP: Promise<Deno.CommandStatus> | null = null;
  const status = () => (statusP ??= child.status.then(async (s) => {
    await pumps;
    return s;
  }));
  return {
    child,
    stderr: () => err,
    get stdout() {
      return out;
    },
    async waitFor(text, ms = 15_000) {
      const started = Date.now();
      const has = () => typeof text === "string" ? err.includes(text) : text.test(err);
      while (!has()) {
        if (Date.now() - started > ms) throw new Error(`timed out waiting for ${text}; stderr:\n${err}`);
        let exited = false;
        const t = setTimeout(() => waiters.forEach((w) => w()), 200);
        await Promise.race([
          new Promise<void>((r) => waiters.push(r)),
          status().then(() => {
            exited = true;
          }),
        ]);
        clearTimeout(t);
        if (exited && !has()) throw new Error(`${name} exited before printing ${text}; stderr:\n${err}`);
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 5000);
      const s = await status();
      clearTimeout(timer);
      return s.code;
    },
    status,
    async [Symbol.asyncDispose]() {
      await this.stop();
    },
  };
}

/** Runs the CLI with `args` (from source, with the permissions `deno task gost` grants). */
export function spawnGost(args: string[], opts: SpawnOptions = {}): GostProcess & { stdout: string } {
  const flags = [...GOST_RUN_FLAGS, ...opts.denoFlags ?? []];
  return spawnProcess(Deno.execPath(), ["run", ...flags, MAIN, ...args], opts, "gost");
}

/**
 * Starts `cmd` (the real gost, a peer daemon) and waits until each of `ports` accepts TCP
 * connections; if one never does, the process is stopped and the error shows its stderr.
 */
export async function startProcess(
  cmd: string,
  args: string[],
  ports: number[],
  ms = 10_000,
): Promise<GostProcess> {
  const p = spawnProcess(cmd, args);
  try {
    for (const port of ports) await waitForPort(port, ms);
  } catch (err) {
    await p.stop();
    throw new Error(`${cmd} ${args.join(" ")}: ${(err as Error).message}; stderr:\n${p.stderr()}`);
  }
  return p;
}

/**
 * Polls `cond` every `every` ms until it holds; after `ms` rejects with "timed out waiting
 * for" `what` (a function is called then, so the message can show the latest output).
 */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string | (() => string),
  ms = 15_000,
  every = 50,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Retries `attempt` every `every` ms until it resolves, and returns its result; after `ms`
 * the last failure is thrown (so a test reports why, not only that it gave up).
 */
export async function retry<T>(attempt: () => Promise<T>, ms = 10_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

/** Waits until 127.0.0.1:`port` accepts TCP connections; rejects after `ms`. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  try {
    await retry(async () => (await Deno.connect({ hostname: "127.0.0.1", port })).close(), ms);
  } catch {
    throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
  }
}

/** Starts gost and waits until it has printed `listening on` `services` times. */
export async function startGost(
  args: string[],
  services = 1,
  opts: SpawnOptions = {},
): Promise<GostProcess> {
  const g = spawnGost(args, opts);
  await g.waitFor(new RegExp(`(listening on[\\s\\S]*){${services}}`));
  return g;
}

/** Runs gost to completion; returns exit code, stdout and stderr. */
export async function runGost(args: string[], opts: SpawnOptions = {}) {
  const g = spawnGost(args, opts) as GostProcess & { stdout: string };
  const s = await g.status();
  return { code: s.code, stdout: g.stdout, stderr: g.stderr() };
}

/**
 * A TCP echo server on 127.0.0.1 (port 0 = any). With `greeting`, each connection first
 * gets `greeting + "\n"` (tells a client which of several servers answered). `using` closes it.
 */
export function tcpEchoServer(
  port = 0,
  opts: { greeting?: string } = {},
): Disposable & { port: number; close(): void; connections: () => number } {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  let count = 0;
  const conns = new Set<Deno.Conn>();
  let closed = false;
  (async () => {
    while (!closed) {
      let c: Deno.Conn;
      try {
        c = await l.accept();
      } catch (err) {
        // One failed accept (a reset before accept, a short fd shortage) must not end the server.
        if (closed || err instanceof Deno.errors.BadResource) return;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      count++;
      conns.add(c);
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        try {
          if (opts.greeting !== undefined) await c.write(encoder.encode(`${opts.greeting}\n`));
          for (;;) {
            const n = await c.read(buf);
            if (n === null) break;
            let off = 0;
            while (off < n) off += await c.write(buf.subarray(off, n));
          }
          await c.closeWrite();
        } catch {
          // peer reset
        } finally {
          conns.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    connections: () => count,
    close() {
      if (closed) return;
      closed = true;
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
    [Symbol.dispose]() {
      this.close();
    },
  };
}

/**
 * An HTTP server on 127.0.0.1 (any free port, nothing printed) answering with `handler`;
 * `await using` closes it.
 */
export function httpServer(
  handler: Deno.ServeHandler,
): AsyncDisposable & { port: number; close(): Promise<void> } {
  const ac = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} }, handler);
  return {
    port: server.addr.port,
    async close() {
      ac.abort();
      await server.finished;
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}

/** A UDP server on 127.0.0.1 answering each datagram with `prefix + datagram`. */
export function udpEchoServer(
  prefix = "",
  port = 0,
): Disposable & { port: number; close(): void; received: () => number } {
  const s = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
  let received = 0;
  const p = encoder.encode(prefix);
  (async () => {
    for (;;) {
      const [data, from] = await s.receive();
      received++;
      await s.send(concat([p, data]), from);
    }
  })().catch(() => {});
  let closed = false;
  const close = () => {
    if (!closed) s.close();
    closed = true;
  };
  return { port: (s.addr as Deno.NetAddr).port, received: () => received, close, [Symbol.dispose]: close };
}

/** Connects to 127.0.0.1:port, writes `data`, half-closes, and reads everything back. */
export async function tcpRoundTrip(port: number, data: Uint8Array, host = "127.0.0.1"): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: host, port });
  const d = socketDuplex(conn);
  const chunks: Uint8Array[] = [];
  try {
    const writing = (async () => {
      await d.direct!.write(data);
      await d.direct!.closeWrite();
    })();
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    await writing;
  } finally {
    conn.close();
  }
  return concat(chunks);
}

/**
 * Linux: the kernel timer of the IPv4 loopback socket 127.0.0.1:`local` → 127.0.0.1:`remote` from
 * /proc/net/tcp ("02" while TCP keep-alive is on and the connection idle, "00" for none).
 */
export async function tcpTimer(local: number, remote: number): Promise<string | undefined> {
  const hex = (p: number) => `0100007F:${p.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of (await Deno.readTextFile("/proc/net/tcp")).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] === hex(local) && f[2] === hex(remote)) return f[5].split(":")[0];
  }
  return undefined;
}

/** Sends one datagram from a fresh socket and waits for one answer (or null after `ms`). */
export async function udpRoundTrip(
  port: number,
  data: Uint8Array | string,
  ms = 3000,
  sock?: Deno.DatagramConn,
): Promise<Uint8Array | null> {
  const s = sock ?? Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    await s.send(typeof data === "string" ? encoder.encode(data) : data, {
      transport: "udp",
      hostname: "127.0.0.1",
      port,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      s.receive().then(([d]) => d),
      new Promise<null>((res) => timer = setTimeout(() => res(null), ms)),
    ]);
    clearTimeout(timer);
    return r;
  } finally {
    if (!sock) s.close();
  }
}

/** Something bytes can be read from: a socket, a DirectIO, or a duplex with its direct path. */
type ByteSource = { read(buf: Uint8Array): Promise<number | null> } | Duplex;

/** Reads exactly `n` bytes; end of stream before that is an error naming how many arrived. */
export async function readExactly(src: ByteSource, n: number): Promise<Uint8Array> {
  const r = "read" in src ? src : src.direct!;
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await r.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

/** Deterministic pseudo-random bytes. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Bytes from hex digits (`"0501"` → 05 01), for golden bytes written as in the vector files. */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Bytes as lowercase hex digits, to compare with golden bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of bytes, hex. */
export async function sha256(data: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return toHex(h);
}

export { decoder, encoder };

/**
 * One YAML list item (under `services:`) for a TCP forward named `name` from 127.0.0.1:`port` to
 * 127.0.0.1:`target`, optionally through `chain`.
 */
export function forwardServiceYaml(name: string, port: number, target: number, chain?: string): string {
  return `  - name: ${name}
    addr: 127.0.0.1:${port}
    handler:
      type: tcp${chain ? `\n      chain: ${chain}` : ""}
    listener:
      type: tcp
    forwarder:
      nodes:
        - name: t
          addr: 127.0.0.1:${target}
`;
}

/**
 * A TCP relay in front of a server that counts the connections through it and can cut them all
 * (a dropped session of a multiplexed channel).
 */
export function countingTee(
  to: number,
): { port: number; accepted: () => number; cut(): void; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const live = new Set<Deno.Conn>();
  let accepted = 0;
  (async () => {
    for await (const a of l) {
      accepted++;
      const b = await Deno.connect({ hostname: "127.0.0.1", port: to });
      live.add(a);
      live.add(b);
      const end = () => {
        for (const c of [a, b]) {
          live.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        }
      };
      a.readable.pipeTo(b.writable).catch(() => {}).finally(end);
      b.readable.pipeTo(a.writable).catch(() => {}).finally(end);
    }
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    cut() {
      for (const c of live) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      live.clear();
    },
    close: () => l.close(),
  };
}

/** Sends `data` to 127.0.0.1:`port`, half-closes, and returns everything read back until EOF. */
export async function streamRoundTrip(port: number, data: Uint8Array): Promise<Uint8Array> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  const writing = (async () => {
    // Deno.Conn.write may write only part of what it is given.
    for (let off = 0; off < data.length;) off += await c.write(data.subarray(off, off + 65536));
    await c.closeWrite();
  })();
  const got = await new Response(c.readable).arrayBuffer();
  await writing;
  return new Uint8Array(got);
}

/**
 * A channel as the second hop of a chain: `scheme://` served by its own gost, reached through a
 * relay node; three 200 KB round trips through `-L tcp:// -F relay:// -F scheme://` must come back
 * intact (the channel's handshake and sessions then run inside the first hop's stream).
 */
export async function checkAsSecondHop(
  scheme: string,
  serverQuery = "",
  clientQuery = serverQuery,
): Promise<void> {
  const echo = tcpEchoServer();
  const [relayPort, hopPort, fwdPort] = [freePort(), freePort(), freePort()];
  const hop1 = await startGost(["-L", `relay://127.0.0.1:${relayPort}`]);
  const hop2 = await startGost(["-L", `${scheme}://127.0.0.1:${hopPort}${serverQuery}`]);
  const client = await startGost([
    "-L",
    `tcp://127.0.0.1:${fwdPort}/127.0.0.1:${echo.port}`,
    "-F",
    `relay://127.0.0.1:${relayPort}`,
    "-F",
    `${scheme}://127.0.0.1:${hopPort}${clientQuery}`,
  ]);
  try {
    for (let i = 0; i < 3; i++) {
      const data = randomBytes(200_000, i + 3);
      const back = await streamRoundTrip(fwdPort, data);
      if (back.length !== data.length || back.some((b, j) => b !== data[j])) {
        throw new Error(`${scheme} as a second hop: round trip ${i} came back changed`);
      }
    }
  } finally {
    await client.stop();
    await hop2.stop();
    await hop1.stop();
    echo.close();
  }
}

/**
 * UDP over a channel: `-L udp:// -F scheme://` towards a `scheme://` server; one datagram of each of
 * `sizes` must come back from a UDP echo ("echo:" + the datagram), boundaries kept.
 */
export async function checkUdpOver(scheme: string, sizes: number[]): Promise<void> {
  const echo = udpEchoServer("echo:");
  const [nodePort, udpPort] = [freePort(), freeUdpPort()];
  const server = await startGost(["-L", `${scheme}://127.0.0.1:${nodePort}`]);
  const client = await startGost([
    "-L",
    `udp://127.0.0.1:${udpPort}/127.0.0.1:${echo.port}`,
    "-F",
    `${scheme}://127.0.0.1:${nodePort}`,
  ]);
  try {
    for (const size of sizes) {
      const data = randomBytes(size, size);
      const back = await retry(async () => (await udpRoundTrip(udpPort, data, 1000)) ?? Promise.reject());
      const want = concat([encoder.encode("echo:"), data]);
      if (back.length !== want.length || back.some((b, i) => b !== want[i])) {
        throw new Error(`udp over ${scheme}: a ${size}-byte datagram came back changed`);
      }
    }
  } finally {
    await client.stop();
    await server.stop();
    echo.close();
  }
}

/** Two ends of one TCP connection on 127.0.0.1: the dialled end first, then the accepted one. */
export async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
      l.accept(),
    ]) as [Deno.TcpConn, Deno.TcpConn];
  } finally {
    l.close();
  }
}
