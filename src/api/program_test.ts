import { deepStrictEqual, equal, match } from "node:assert/strict";
import { oneThreadWhenObserved, parseEndpoints } from "./program.ts";

Deno.test("endpoints: an empty host is loopback, path defaults to /metrics, an undefined auther is refused", () => {
  const ok = parseEndpoints({
    api: { addr: ":18080", pathPrefix: "/gost/" },
    metrics: { addr: "0.0.0.0:9000" },
  });
  deepStrictEqual(ok.errors, []);
  deepStrictEqual(ok.api?.addr, { hostname: "127.0.0.1", port: 18080 });
  equal(ok.api?.pathPrefix, "/gost");
  deepStrictEqual(ok.metrics?.addr, { hostname: "0.0.0.0", port: 9000 });
  equal(ok.metrics?.path, "/metrics");
  const bad = parseEndpoints({ api: { addr: ":1", auther: "a0" }, metrics: { addr: "nope" } });
  equal(bad.errors.length, 2);
  match(bad.errors[0].message, /api\.auther: no auther named "a0" in authers/);
  match(bad.errors[1].message, /metrics\.addr/);
  const named = parseEndpoints({ authers: [{ name: "a0", auths: [] }], api: { addr: ":1", auther: "a0" } });
  deepStrictEqual(named.errors, []);
  equal(named.api?.auther, "a0");
  deepStrictEqual(parseEndpoints({ metrics: { addr: "unix:///run/g.sock" } }).metrics?.addr, {
    path: "/run/g.sock",
  });
});

Deno.test("endpoints: with metrics or the API on, one thread serves (a number asked for is said to be ignored)", () => {
  const warnings: string[] = [];
  equal(oneThreadWhenObserved({ services: [] }, (w) => warnings.push(w)).workers, undefined);
  equal(oneThreadWhenObserved({ metrics: { addr: ":1" } }, (w) => warnings.push(w)).workers, 1);
  equal(oneThreadWhenObserved({ api: { addr: ":1" }, workers: "auto" }, (w) => warnings.push(w)).workers, 1);
  equal(warnings.length, 0);
  equal(oneThreadWhenObserved({ api: { addr: ":1" }, workers: 4 }, (w) => warnings.push(w)).workers, 1);
  match(warnings[0], /workers: 4 ignored/);
});
