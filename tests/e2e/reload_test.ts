/**
 * SIGHUP reload through the CLI: each case carries data on a live connection across the
 * reload — unchanged services keep it, changed ones let it finish on the old config while new
 * connections get the new one, removed ones end it, an invalid config changes nothing, and a
 * service whose chain changed counts as changed.
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { deadline } from "../../src/core/timeout.ts";
import {
  decoder,
  forwardServiceYaml,
  freePort,
  type GostProcess,
  startGost,
  tcpEchoServer,
  waitUntil,
} from "../_helpers.ts";

const ON_WINDOWS = Deno.build.os === "windows";

/** A TCP echo server that greets each connection with `tag\n` (which target answered). */
const taggedEcho = (tag: string) => tcpEchoServer(0, { greeting: tag });

/** A client connection that knows which target answered (its greeting). */
class Client {
  private constructor(readonly conn: Deno.Conn, readonly tag: string) {}

  static async open(port: number): Promise<Client> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const buf = new Uint8Array(64);
    let got = "";
    while (!got.includes("\n")) {
      const n = await deadline(conn.read(buf), 5000, `greeting on port ${port}`);
      if (n === null) throw new Error(`port ${port}: closed before the greeting`);
      got += decoder.decode(buf.subarray(0, n));
    }
    return new Client(conn, got.trim());
  }

  /** Sends `n` bytes and reads them back; throws when the connection has ended. */
  async echo(n = 32 * 1024): Promise<void> {
    const data = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
    const writing = this.conn.write(data).then(async (w) => {
      let off = w;
      while (off < n) off += await this.conn.write(data.subarray(off));
    });
    const back = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await deadline(this.conn.read(back.subarray(got)), 5000, "echo");
      if (r === null) throw new Error(`connection ended after ${got} of ${n} bytes`);
      got += r;
    }
    await writing;
    equal(back.every((b, i) => b === data[i]), true, "echoed bytes differ");
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

const forward = forwardServiceYaml;

function relayServer(name: string, port: number): string {
  return `  - name: ${name}
    addr: 127.0.0.1:${port}
    handler:
      type: relay
    listener:
      type: tcp
`;
}

function relayChain(name: string, port: number): string {
  return `chains:
  - name: ${name}
    hops:
      - name: hop-0
        nodes:
          - name: n
            addr: 127.0.0.1:${port}
            connector:
              type: relay
              metadata:
                nodelay: true
            dialer:
              type: tcp
`;
}

/** Counts lines of `text` matching `re`. */
function count(text: string, re: RegExp): number {
  return text.split("\n").filter((l) => re.test(l)).length;
}

async function reload(g: GostProcess, path: string, yaml: string, expect: RegExp): Promise<void> {
  const before = count(g.stderr(), expect);
  await Deno.writeTextFile(path, yaml);
  g.child.kill("SIGHUP");
  await waitUntil(
    () => count(g.stderr(), expect) > before,
    () => `${expect} after SIGHUP; stderr:\n${g.stderr()}`,
    10_000,
  );
}

async function refused(port: number): Promise<void> {
  await rejects(
    Deno.connect({ hostname: "127.0.0.1", port }).then((c) => c.close()),
    `port ${port} still open`,
  );
}

Deno.test({
  name: "reload: unchanged kept, changed replaced, removed stopped, added started, bad config ignored",
  ignore: ON_WINDOWS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const [echoA, echoB] = [taggedEcho("A"), taggedEcho("B")];
    const [pKeep, pChange, pRemove, pAdd] = [freePort(), freePort(), freePort(), freePort()];
    const dir = await Deno.makeTempDir();
    const path = `${dir}/gost.yaml`;
    await Deno.writeTextFile(
      path,
      `services:\n${forward("keep", pKeep, echoA.port)}${forward("change", pChange, echoA.port)}${
        forward("remove", pRemove, echoA.port)
      }`,
    );
    const g = await startGost(["-C", path], 3);
    const clients: Client[] = [];
    try {
      const keep = await Client.open(pKeep);
      const change = await Client.open(pChange);
      const remove = await Client.open(pRemove);
      clients.push(keep, change, remove);
      for (const c of clients) await c.echo();
      equal(change.tag, "A");

      await reload(
        g,
        path,
        `services:\n${forward("keep", pKeep, echoA.port)}${forward("change", pChange, echoB.port)}${
          forward("add", pAdd, echoB.port)
        }`,
        /reload: 1 kept, 1 replaced, 1 added, 1 removed/,
      );
      // unchanged: the same connection goes on carrying data
      await keep.echo();
      // changed: the live connection finishes on the old target, a new one gets the new target
      await change.echo();
      equal(change.tag, "A");
      const changed = await Client.open(pChange);
      clients.push(changed);
      equal(changed.tag, "B");
      await changed.echo();
      // removed: its live connection ends and its port is closed
      await rejects(remove.echo(), /ended|reset|closed|Broken pipe|connection/i);
      await refused(pRemove);
      // added
      const added = await Client.open(pAdd);
      clients.push(added);
      equal(added.tag, "B");
      await added.echo();

      // An invalid config is rejected with its error; everything keeps serving.
      await reload(
        g,
        path,
        `services:\n${
          forward("keep", pKeep, echoA.port).replace("type: tcp\n    listener", "type: htp\n    listener")
        }`,
        /reload: config rejected, the running one stays/,
      );
      match(g.stderr(), /unknown handler type \\?"htp\\?"/);
      await keep.echo();
      await change.echo();
      await changed.echo();
      await added.echo();
      const again = await Client.open(pChange);
      clients.push(again);
      equal(again.tag, "B");

      // The replaced service's old connection still finishes cleanly after all this.
      await change.echo();
      change.close();
      equal(await g.stop(), 0);
    } finally {
      for (const c of clients) c.close();
      await g.stop();
      echoA.close();
      echoB.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "reload: a service whose chain changed is replaced; its live connection stays on the old chain",
  ignore: ON_WINDOWS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const echo = taggedEcho("E");
    const [pFwd, pR1, pR2] = [freePort(), freePort(), freePort()];
    const dir = await Deno.makeTempDir();
    const path = `${dir}/gost.yaml`;
    const config = (relayPort: number) =>
      `services:\n${forward("fwd", pFwd, echo.port, "c")}${relayServer("relay1", pR1)}${
        relayServer("relay2", pR2)
      }${relayChain("c", relayPort)}`;
    await Deno.writeTextFile(path, config(pR1));
    const g = await startGost(["-C", path], 3);
    const clients: Client[] = [];
    try {
      const old = await Client.open(pFwd);
      clients.push(old);
      await old.echo();
      await reload(g, path, config(pR2), /reload: 2 kept, 1 replaced, 0 added, 0 removed/);
      match(g.stderr(), /"replaced":\["fwd"\]/);
      await old.echo();
      const fresh = await Client.open(pFwd);
      clients.push(fresh);
      await fresh.echo();
      // Each relay logs a line when a connection through it ends: the new one went through relay2.
      fresh.close();
      await g.waitFor(
        /"service":"relay2"[^\n]*"dst":"127\.0\.0\.1:\d+"|"dst":"127\.0\.0\.1:\d+"[^\n]*"service":"relay2"/,
      );
      await old.echo();
      old.close();
      await g.waitFor(/"service":"relay1"[^\n]*><|><[^\n]*"service":"relay1"/);
      // Same config again: nothing changes.
      await reload(g, path, config(pR2), /reload: 3 kept, 0 replaced, 0 added, 0 removed/);
      ok(true);
    } finally {
      for (const c of clients) c.close();
      await g.stop();
      echo.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "reload: a new service that cannot listen leaves the running config untouched",
  ignore: ON_WINDOWS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const echo = taggedEcho("A");
    const [pKeep, pChange] = [freePort(), freePort()];
    const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (blocker.addr as Deno.NetAddr).port;
    const dir = await Deno.makeTempDir();
    const path = `${dir}/gost.yaml`;
    await Deno.writeTextFile(
      path,
      `services:\n${forward("keep", pKeep, echo.port)}${forward("change", pChange, echo.port)}`,
    );
    const g = await startGost(["-C", path], 2);
    const clients: Client[] = [];
    try {
      const live = await Client.open(pChange);
      clients.push(live);
      await live.echo();
      // "change" moves to a port someone else holds: the reload fails as a whole.
      await reload(
        g,
        path,
        `services:\n${forward("keep", pKeep, echo.port)}${forward("change", busy, echo.port)}`,
        /reload: the new config cannot start, the running one stays/,
      );
      match(g.stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy}`));
      await live.echo();
      const fresh = await Client.open(pChange);
      clients.push(fresh);
      await fresh.echo();
      // A host that is not on this machine, on the same port: the port was handed over, then
      // taken back by the old config.
      await reload(
        g,
        path,
        `services:\n${forward("keep", pKeep, echo.port)}${
          forward("change", pChange, echo.port).replace("127.0.0.1", "192.0.2.1")
        }`,
        /reload: the new config cannot start, the running one stays/,
      );
      await live.echo();
      const after = await Client.open(pChange);
      clients.push(after);
      await after.echo();
    } finally {
      for (const c of clients) c.close();
      blocker.close();
      await g.stop();
      echo.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
