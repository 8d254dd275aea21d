import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import type { ConfigError } from "../core/errors.ts";
import { rootLogger } from "../core/log.ts";
import { parsePattern } from "../core/matcher.ts";
import { AdmissionGroup, MatcherAdmission, type Resolve } from "./admission.ts";
import { admissionAt, buildAdmissions } from "./build.ts";

const adm = (patterns: string[], whitelist = false, resolve?: Resolve) =>
  new MatcherAdmission("a", patterns.map(parsePattern), whitelist, rootLogger, 0, resolve);

Deno.test("admission: blacklist and whitelist on the client address", async () => {
  const black = adm(["10.9.9.9", "192.168.0.0/16", "172.16.0.1-172.16.0.9", "::1"]);
  await black.ready();
  ok(!black.admit("10.9.9.9:5555"));
  ok(!black.admit("192.168.7.7:1"));
  ok(!black.admit("172.16.0.5:1"));
  ok(!black.admit("[::1]:1"));
  ok(black.admit("127.0.0.1:40000"));
  const white = adm(["10.9.9.9"], true);
  ok(!white.admit("127.0.0.1:40000"));
  ok(white.admit("10.9.9.9:1"));
  ok(!adm([], true).admit("127.0.0.1:1"), "an empty whitelist admits nobody");
});

Deno.test("admission: host names are resolved before the service listens", async () => {
  let calls = 0;
  const resolve: Resolve = (name) => {
    calls++;
    return Promise.resolve(name === "me.test" ? ["127.0.0.1", "::1"] : []);
  };
  const a = adm(["me.test"], true, resolve);
  ok(!a.admit("127.0.0.1:1"), "nothing is admitted before the names are resolved");
  await a.ready();
  ok(a.admit("127.0.0.1:1") && a.admit("[::1]:2") && !a.admit("10.0.0.1:1"));
  deepStrictEqual(calls, 1);
  const failing = adm(["nowhere.test"], false, () => Promise.reject(new Error("NXDOMAIN")));
  await rejects(failing.ready(), /cannot resolve nowhere\.test: NXDOMAIN/);
  const real = adm(["localhost"], true);
  await real.ready();
  ok(real.admit("127.0.0.1:1"), "localhost resolves through the system (/etc/hosts)");
});

Deno.test("admissions: any refusal refuses", async () => {
  const g = new AdmissionGroup([adm(["10.0.0.0/8"], true), adm(["10.0.0.1"])]);
  await g.ready();
  ok(g.admit("10.0.0.2:1"));
  ok(!g.admit("10.0.0.1:1"));
  ok(!g.admit("11.0.0.1:1"));
});

Deno.test("admissions section: ports and domain patterns are refused, names checked", () => {
  const errors: ConfigError[] = [];
  const closers: (() => void)[] = [];
  const map = buildAdmissions(
    [
      { name: "a", matchers: ["10.0.0.1", "10.0.0.1:80", "*.example.com", ".example.org", "x*"] },
      { name: "b", whitelist: "yes", matchers: ["1.2.3.4-1.2.3.1"] },
    ],
    errors,
    rootLogger,
    closers,
  );
  deepStrictEqual(errors.map((e) => e.path), [
    "admissions[0].matchers[1]",
    "admissions[0].matchers[2]",
    "admissions[0].matchers[3]",
    "admissions[0].matchers[4]",
    "admissions[1].whitelist",
    "admissions[1].matchers[0]",
  ]);
  const refErrors: ConfigError[] = [];
  ok(
    admissionAt({ admission: "a", admissions: ["b"] }, "services[0]", map, refErrors) instanceof
      AdmissionGroup,
  );
  admissionAt({ admission: "c" }, "services[0]", map, refErrors);
  deepStrictEqual(refErrors.map((e) => e.path), ["services[0].admission"]);
  for (const close of closers) close();
});
