import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Config } from "../config/types.ts";
import { configureLog } from "../core/log.ts";
import { buildRuntime } from "./build.ts";

configureLog({ sink: () => {} });

Deno.test("build: shape problems and assembly problems come in one report; nothing is returned to run", async () => {
  const { runtime, errors } = await buildRuntime({
    workers: "many",
    services: [{ name: "a", addr: ":0", handler: { type: "htp" } }, "x"],
    chains: [{ name: "c", hops: [] }],
  } as unknown as Config);
  equal(runtime, undefined);
  deepStrictEqual(errors.map((e) => e.path), [
    "chains[0].hops",
    "services[1]",
    "workers",
    "services[0].handler.type",
  ]);
});

Deno.test("build: a valid config gives its services, chains and warnings", async () => {
  const { runtime, errors } = await buildRuntime({
    ingresses: [],
    services: [{
      name: "s",
      addr: "127.0.0.1:0",
      handler: { type: "socks5", chain: "c" },
      metadata: { x: 1 },
    }],
    chains: [{
      name: "c",
      hops: [{ name: "h", nodes: [{ name: "n", addr: "127.0.0.1:1", connector: { type: "http" } }] }],
    }],
  } as unknown as Config);
  deepStrictEqual(errors, []);
  deepStrictEqual(runtime!.services.map((s) => s.name), ["s"]);
  deepStrictEqual([...runtime!.chains.keys()], ["c"]);
  ok(runtime!.warnings.includes("ingresses: section not supported, ignored"), runtime!.warnings.join("\n"));
  ok(
    runtime!.warnings.includes("services[0].metadata.x: unknown option, ignored"),
    runtime!.warnings.join("\n"),
  );
  for (const c of runtime!.chains.values()) c.close();
  for (const close of runtime!.closers) close();
});
