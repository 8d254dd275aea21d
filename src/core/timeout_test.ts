import assert from "node:assert/strict";
import { deadline, sleep, TimeoutError } from "./timeout.ts";

const never = () => new Promise<never>(() => {});

Deno.test("deadline: a promise met in time resolves or rejects as itself, and leaves no timer", async () => {
  assert.equal(await deadline(Promise.resolve(7), 1000, "x"), 7);
  await assert.rejects(deadline(Promise.reject(new Error("own")), 1000, "x"), /own/);
  // Many at once behind one queue: all met, the sanitizer sees no timer left.
  const got = await Promise.all(Array.from({ length: 500 }, (_, i) => deadline(sleep(i % 5), 1000, "x")));
  assert.equal(got.length, 500);
});

Deno.test("deadline: each expires on its own time and calls onTimeout first", async () => {
  const order: string[] = [];
  const t0 = performance.now();
  const run = (ms: number, name: string) =>
    deadline(never(), ms, name, () => order.push(`close ${name}`)).catch((err) => {
      assert.ok(err instanceof TimeoutError);
      assert.equal(err.message, `${name} timed out after ${ms} ms`);
      order.push(`${name} ${Math.round(performance.now() - t0)}`);
    });
  // Same duration added in turn, and shorter ones added later: each queue keeps its order.
  const a = run(120, "a");
  await sleep(20);
  const b = run(120, "b");
  const c = run(40, "c");
  const met = deadline(sleep(10), 120, "met");
  await Promise.all([a, b, c, met]);
  assert.deepEqual(order.filter((s) => s.startsWith("close")), ["close c", "close a", "close b"]);
  const at = (name: string) => Number(order.find((s) => s.startsWith(`${name} `))!.split(" ")[1]);
  assert.ok(at("c") >= 39 && at("c") < 100, `c at ${at("c")}`);
  assert.ok(at("a") >= 119 && at("a") < 200, `a at ${at("a")}`);
  assert.ok(at("b") >= 139 && at("b") < 220, `b at ${at("b")}`);
});

Deno.test("deadline: a pending one behind met ones still expires; an onTimeout that throws does not stop the rest", async () => {
  const fired: string[] = [];
  const first = deadline(sleep(5), 60, "first");
  const slow = deadline(never(), 60, "slow", () => {
    fired.push("slow");
    throw new Error("close failed");
  }).catch((e) => e);
  const last = deadline(never(), 60, "last", () => fired.push("last")).catch((e) => e);
  await first;
  assert.ok((await slow) instanceof TimeoutError);
  assert.ok((await last) instanceof TimeoutError);
  assert.deepEqual(fired, ["slow", "last"]);
});

Deno.test("deadline: a duration that is no integer gets a timer of its own and works the same", async () => {
  await assert.rejects(deadline(never(), 10.5, "odd"), TimeoutError);
  assert.equal(await deadline(Promise.resolve("ok"), 12.25, "odd"), "ok");
  assert.equal(await deadline(Promise.resolve("no limit"), 0, "none"), "no limit");
});
