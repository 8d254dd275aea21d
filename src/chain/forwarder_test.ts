import assert from "node:assert/strict";
import type { Duplex } from "../core/duplex.ts";
import { Logger } from "../core/log.ts";
import type { HandlerContext, Router } from "../core/types.ts";
import { dialTarget, Forwarder, Target } from "./forwarder.ts";

const log = new Logger({ level: "error", format: "json", sink: () => {} });
const client = { remote: "127.0.0.1:5000" } as Duplex;

function router(down: string[] = []): Router & { dialled: string[] } {
  const dialled: string[] = [];
  return {
    dialled,
    hasChain: false,
    dial(_network, addr) {
      dialled.push(addr);
      if (down.includes(addr)) return Promise.reject(new Error(`${addr} refused`));
      return Promise.resolve({ remote: addr } as Duplex);
    },
    bind: () => Promise.reject(new Error("no bind")),
  };
}

const ctx = (): HandlerContext => ({ log, record: {}, signal: new AbortController().signal });

Deno.test("dialTarget: without targets the client's address is dialled and recorded", async () => {
  const r = router();
  const c = ctx();
  const d = await dialTarget(r, undefined, "tcp", "example.com:80", client, c);
  assert.equal(d.remote, "example.com:80");
  assert.equal(c.record.dst, "example.com:80");
  assert.deepEqual(r.dialled, ["example.com:80"]);
  await dialTarget(r, new Forwarder([]), "tcp", "b:1", client, c);
  assert.equal(c.record.dst, "b:1", "an empty forwarder is no forwarder");
});

Deno.test("dialTarget: with targets the service decides, fails over, and records the one that answered", async () => {
  const r = router(["t1:1"]);
  const c = ctx();
  const fwd = new Forwarder([new Target("t1", "t1:1"), new Target("t2", "t2:2")]);
  const d = await dialTarget(r, fwd, "tcp", "asked:9", client, c);
  assert.equal(d.remote, "t2:2");
  assert.equal(c.record.dst, "t2:2");
  assert.ok(!r.dialled.includes("asked:9"));
});
