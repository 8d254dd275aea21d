import assert from "node:assert/strict";
import type { Duplex } from "../core/duplex.ts";
import { streamDuplex } from "../core/duplex.ts";
import { Logger } from "../core/log.ts";
import type { BindOptions, Listener, Network, Router } from "../core/types.ts";
import { RemoteForwardListener } from "./rtcp.ts";

/** A bound listener the test drives: push connections, or drop it like a dead tunnel. */
class FakeBound implements Listener {
  #queue: Duplex[] = [];
  #waiters: ((d: Duplex | null) => void)[] = [];
  closed = false;
  constructor(readonly addr: string) {}
  listen() {
    return Promise.resolve();
  }
  push(d: Duplex) {
    const w = this.#waiters.shift();
    if (w) w(d);
    else this.#queue.push(d);
  }
  drop() {
    this.closed = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }
  accept() {
    const d = this.#queue.shift();
    if (d) return Promise.resolve(d);
    if (this.closed) return Promise.resolve(null);
    return new Promise<Duplex | null>((r) => this.#waiters.push(r));
  }
  close() {
    this.drop();
  }
}

/** A router "with a chain" whose binds succeed or fail as the test says. */
class FakeRouter implements Router {
  readonly hasChain = true;
  readonly chainName = "chain-0";
  failuresLeft = 0;
  binds: FakeBound[] = [];
  lastOpts?: BindOptions;
  bind(_n: Network, addr: string, _ctx: unknown, opts?: BindOptions): Promise<Listener> {
    this.lastOpts = opts;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error("far side unreachable"));
    }
    const l = new FakeBound(addr);
    this.binds.push(l);
    return Promise.resolve(l);
  }
  dial(): Promise<Duplex> {
    return Promise.reject(new Error("not used"));
  }
}

function conn(name: string): Duplex {
  return streamDuplex({
    readable: new ReadableStream(),
    writable: new WritableStream(),
    close: () => {},
    remote: name,
  });
}

function logger() {
  const lines: string[] = [];
  return { lines, log: new Logger({ level: "debug", format: "text", sink: (l) => lines.push(l) }) };
}

Deno.test("rtcp listener: accepts through the bind, re-binds right after the tunnel drops", async () => {
  const router = new FakeRouter();
  const { lines, log } = logger();
  const l = new RemoteForwardListener("tcp", ":8080", router, log);
  await l.listen();
  assert.equal(router.binds.length, 1);
  router.binds[0].push(conn("a"));
  assert.equal((await l.accept())?.remote, "a");

  const next = l.accept();
  router.binds[0].drop();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(router.binds.length, 2, "re-bound");
  router.binds[1].push(conn("b"));
  assert.equal((await next)?.remote, "b");
  assert.equal(l.rebinds, 1);
  assert.ok(lines.some((x) => x.includes("lost")), lines.join("\n"));
  assert.ok(lines.some((x) => x.includes("re-established")), lines.join("\n"));
  l.close();
});

Deno.test("rtcp listener: a failing first bind does not stop start-up and is retried with backoff", async () => {
  const router = new FakeRouter();
  router.failuresLeft = 2;
  const { lines, log } = logger();
  const l = new RemoteForwardListener("tcp", ":8080", router, log);
  await l.listen(); // resolves although the far side is unreachable
  assert.equal(l.bound, false);
  const got = l.accept();
  // 0.5 s, then 1 s: bound after about 1.5 s.
  await new Promise((r) => setTimeout(r, 1700));
  assert.equal(l.bound, true);
  router.binds[0].push(conn("c"));
  assert.equal((await got)?.remote, "c");
  assert.ok(lines.some((x) => /failed \(attempt 1\).*next try in 1000 ms/.test(x)), lines.join("\n"));
  l.close();
});

Deno.test("rtcp listener: close during re-binding ends accept with null", async () => {
  const router = new FakeRouter();
  router.failuresLeft = 100;
  const { log } = logger();
  const l = new RemoteForwardListener("tcp", ":8080", router, log);
  await l.listen();
  const got = l.accept();
  setTimeout(() => l.close(), 100);
  assert.equal(await got, null);
});

Deno.test("rtcp listener: a bind that never answers times out", async () => {
  const router = new FakeRouter();
  router.bind = () => new Promise(() => {});
  const { lines, log } = logger();
  const l = new RemoteForwardListener("tcp", ":8080", router, log, {}, 200);
  await l.listen();
  assert.ok(lines.some((x) => /timed out|timeout/i.test(x)), lines.join("\n"));
  l.close();
});

Deno.test("rudp listener passes its session options to the bind", async () => {
  const router = new FakeRouter();
  const { log } = logger();
  const opts = { ttl: 2000, readBufferSize: 8192, readQueueSize: 1024, backlog: 128 };
  const l = new RemoteForwardListener("udp", ":53", router, log, opts);
  await l.listen();
  assert.deepEqual(router.lastOpts, opts);
  l.close();
});
