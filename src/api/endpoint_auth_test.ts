import { equal, match, ok } from "node:assert/strict";
import type { Config } from "../config/types.ts";
import { Logger } from "../core/log.ts";
import { parseEndpoint } from "../metrics/service.ts";
import { checkEndpointAuther, endpointAuther } from "./endpoint_auth.ts";

const quiet = new Logger({ level: "fatal", format: "json", sink: () => {} });
const authers = (password: string) => [{ name: "ops", auths: [{ username: "ops", password }] }];

Deno.test("endpoint auth: the API accepts its auth or its named auther; metrics only the auther", () => {
  let config: Config = {
    authers: authers("op-pass"),
    api: { addr: ":1", auth: { username: "admin", password: "s3cret" }, auther: "ops" },
    metrics: { addr: ":2", auth: { username: "admin", password: "s3cret" }, auther: "ops" },
  };
  const api = endpointAuther(parseEndpoint(config.api, "api")!, "api", () => config, quiet)!;
  const metrics = endpointAuther(parseEndpoint(config.metrics, "metrics")!, "metrics", () => config, quiet)!;
  try {
    ok(api.check("admin", "s3cret"));
    ok(api.check("ops", "op-pass"));
    ok(!api.check("ops", "wrong"));
    ok(metrics.check("ops", "op-pass"));
    ok(!metrics.check("admin", "s3cret"), "gost: a named auther replaces metrics' auth");
    // The auther as the running config has it now (an API change, a SIGHUP).
    config = { ...config, authers: authers("new-pass") };
    ok(!metrics.check("ops", "op-pass"));
    ok(metrics.check("ops", "new-pass"));
    // Gone from the config: refused, not open.
    config = { ...config, authers: [] };
    ok(!metrics.check("ops", "new-pass"));
  } finally {
    api.close?.();
    metrics.close?.();
  }
});

Deno.test("endpoint auth: an auther name the config does not define is a config error", () => {
  const config: Config = { authers: authers("x"), metrics: { addr: ":2", auther: "nope" } };
  const err = checkEndpointAuther(parseEndpoint(config.metrics, "metrics")!, "metrics", config);
  match(String(err?.message), /metrics\.auther: no auther named "nope" in authers/);
  equal(
    checkEndpointAuther(parseEndpoint({ addr: ":2", auther: "ops" }, "metrics")!, "metrics", config),
    undefined,
  );
});
