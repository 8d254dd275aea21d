import assert from "node:assert/strict";
import type { ConfigError } from "../core/errors.ts";
import {
  DEFAULT_SELECTOR,
  FailMarker,
  normalizeStrategy,
  type Selectable,
  Selector,
  selectorFrom,
} from "./selector.ts";

const nodes = (n: number): Selectable[] =>
  Array.from({ length: n }, (_, i) => ({ name: `n${i}`, marker: new FailMarker() }));

Deno.test("round robin visits every node in turn", () => {
  const s = new Selector({ strategy: "round", maxFails: 1, failTimeout: 10_000 });
  const ns = nodes(3);
  assert.deepEqual([0, 1, 2, 3].map(() => s.select(ns)!.name), ["n0", "n1", "n2", "n0"]);
});

Deno.test("fifo always starts with the first live node", () => {
  const s = new Selector({ strategy: "fifo", maxFails: 1, failTimeout: 10_000 });
  const ns = nodes(3);
  assert.equal(s.select(ns)!.name, "n0");
  ns[0].marker.mark();
  assert.equal(s.select(ns)!.name, "n1");
});

Deno.test("rand follows weights", () => {
  let r = 0;
  const s = new Selector({ strategy: "rand", maxFails: 1, failTimeout: 10_000 }, () => r);
  const ns = [{ name: "a", marker: new FailMarker(), weight: 1 }, {
    name: "b",
    marker: new FailMarker(),
    weight: 3,
  }];
  r = 0.1;
  assert.equal(s.select(ns)!.name, "a");
  r = 0.3;
  assert.equal(s.select(ns)!.name, "b");
  r = 0.99;
  assert.equal(s.select(ns)!.name, "b");
});

Deno.test("hash maps one key to one node, stably", () => {
  const s = new Selector({ strategy: "hash", maxFails: 1, failTimeout: 10_000 });
  const ns = nodes(5);
  const a = s.select(ns, "client-a")!.name;
  for (let i = 0; i < 5; i++) assert.equal(s.select(ns, "client-a")!.name, a);
  const picked = new Set(["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"].map((k) => s.select(ns, k)!.name));
  assert.ok(picked.size > 1, "different keys spread over nodes");
});

Deno.test("a node out after maxFails comes back after failTimeout", () => {
  const s = new Selector({ strategy: "round", maxFails: 2, failTimeout: 1000 });
  const ns = nodes(2);
  ns[0].marker.mark(5000);
  assert.equal(s.isFailed(ns[0], 5001), false, "one failure is under maxFails=2");
  ns[0].marker.mark(5000);
  assert.equal(s.isFailed(ns[0], 5001), true);
  assert.deepEqual(s.order(ns, "", 5001).map((n) => n.name), ["n1", "n0"], "failed node is tried last");
  assert.equal(s.isFailed(ns[0], 6001), false, "back after failTimeout");
});

Deno.test("a node's own maxFails and failTimeout win over the selector's (gost's node metadata)", () => {
  const s = new Selector({ strategy: "round", maxFails: 1, failTimeout: 1000 });
  const tolerant: Selectable = {
    name: "t",
    marker: new FailMarker(),
    fail: { maxFails: 3, failTimeout: 60_000 },
  };
  const plain: Selectable = { name: "p", marker: new FailMarker() };
  for (const n of [tolerant, plain]) n.marker.mark(5000);
  assert.equal(s.isFailed(plain, 5001), true, "the selector's maxFails=1");
  assert.equal(s.isFailed(tolerant, 5001), false, "its own maxFails=3");
  tolerant.marker.mark(5000);
  tolerant.marker.mark(5000);
  assert.equal(s.isFailed(tolerant, 30_000), true, "its own failTimeout of 60 s still holds it out");
  assert.equal(s.isFailed(plain, 30_000), false, "the selector's 1 s is over");
  const onlyTimeout: Selectable = { name: "o", marker: new FailMarker(), fail: { failTimeout: 60_000 } };
  onlyTimeout.marker.mark(5000);
  assert.equal(s.isFailed(onlyTimeout, 30_000), true, "maxFails from the selector, timeout its own");
});

Deno.test("all nodes failed: still offered rather than refused", () => {
  const s = new Selector();
  const ns = nodes(2);
  ns.forEach((n) => n.marker.mark());
  assert.equal(s.order(ns).length, 2);
});

Deno.test("strategy aliases", () => {
  assert.equal(normalizeStrategy("rr"), "round");
  assert.equal(normalizeStrategy("random"), "rand");
  assert.equal(normalizeStrategy("ha"), "fifo");
  assert.equal(normalizeStrategy("HASH"), "hash");
  assert.equal(normalizeStrategy("nope"), null);
});

Deno.test("backup nodes are chosen only while every other node is failed-out", () => {
  const s = new Selector({ strategy: "round", maxFails: 1, failTimeout: 10_000 });
  const b = (name: string) => ({ name, marker: new FailMarker(), backup: true });
  const ns: Selectable[] = [b("b0"), ...nodes(2), b("b1")];
  const now = Date.now();
  // Round robin over the two primaries only; the backups follow as fallbacks.
  assert.deepEqual([0, 1, 2].map(() => s.select(ns, "", now)!.name), ["n0", "n1", "n0"]);
  assert.deepEqual(s.order(ns, "", now).slice(1).map((n) => n.name), ["n0", "b0", "b1"]);
  ns[1].marker.mark(now);
  ns[2].marker.mark(now);
  assert.deepEqual([0, 1].map(() => s.select(ns, "", now)!.name).sort(), ["b0", "b1"]);
  assert.deepEqual(s.order(ns, "", now).slice(2).map((n) => n.name), ["n0", "n1"]);
});

Deno.test("selectorFrom: gost's defaults, aliases made canonical, every wrong value an error", () => {
  const errors: ConfigError[] = [];
  assert.deepEqual(selectorFrom(undefined, "s", errors).opts, DEFAULT_SELECTOR);
  assert.deepEqual(selectorFrom({ strategy: "Random", maxfails: 0 }, "s", errors).opts, {
    strategy: "rand",
    maxFails: 0,
    failTimeout: 10_000,
  });
  assert.equal(errors.length, 0);
  const s = selectorFrom({ strategy: "best", maxFails: -1, failTimeout: "2s" }, "hops[0].selector", errors);
  assert.deepEqual(errors.map((e) => e.path), ["hops[0].selector.strategy", "hops[0].selector.maxFails"]);
  assert.deepEqual(s.opts, { strategy: "round", maxFails: 1, failTimeout: 2000 });
});
