import { deepStrictEqual, equal, match } from "node:assert/strict";
import { formatConfigErrors, parseConfigText } from "../config/load.ts";
import { validateConfig } from "../config/validate.ts";
import type { ConfigError } from "../core/errors.ts";
import { configureLog } from "../core/log.ts";
import { buildRuntime } from "./build.ts";
import { buildForwarder } from "./build_service.ts";

configureLog({ sink: () => {} });

/** Builds `text` as `-C` would; returns the error report with lines. */
async function report(text: string): Promise<string> {
  const { config, sources } = await parseConfigText(text, "gost.yaml");
  const { runtime, errors } = await buildRuntime(config);
  for (const c of runtime?.chains.values() ?? []) c.close();
  return formatConfigErrors(errors, sources);
}

const FORWARD = (selector: string, weight: string) =>
  `services:
  - name: s0
    addr: 127.0.0.1:0
    handler:
      type: tcp
    forwarder:
      selector: ${selector}
      nodes:
        - addr: 127.0.0.1:1
          metadata:
            weight: ${weight}
`;

Deno.test("build service: a target's weight that is not an integer is an error with path and line", async () => {
  equal(
    await report(FORWARD("{}", "abc")),
    'line 11: services[0].forwarder.nodes[0].metadata.weight: invalid value "abc": expected an integer',
  );
  match(
    await report(FORWARD("{}", "-1")),
    /nodes\[0\]\.metadata\.weight: invalid value -1: must be at least 0/,
  );
});

Deno.test("build service: every wrong selector value of a forwarder is reported at once", async () => {
  deepStrictEqual(
    (await report(FORWARD("{strategy: warp, maxFails: -1, failTimeout: soon}", "1"))).split("\n"),
    [
      'line 7: services[0].forwarder.selector.strategy: invalid value "warp": expected one of: round, rr, rand, random, fifo, ha, hash',
      "line 7: services[0].forwarder.selector.maxFails: invalid value -1: must be at least 0",
      'line 7: services[0].forwarder.selector.failTimeout: invalid value "soon": expected a duration like "5s", "300ms" or seconds as a number',
    ],
  );
});

Deno.test("build service: targets get their weights (0 counts as 1), the selector its options", () => {
  const valid = validateConfig({
    services: [{
      addr: ":1",
      forwarder: {
        selector: { strategy: "HA", maxFails: "3", failTimeout: "1m" },
        nodes: [{ addr: "a:1", metadata: { weight: "2" } }, { addr: "b:1", metadata: { weight: 0 } }, {
          name: "c",
          addr: "c:1",
        }],
      },
    }],
  });
  const errors: ConfigError[] = [];
  const fwd = buildForwarder(valid.config!.services[0].forwarder, errors)!;
  deepStrictEqual(errors, []);
  deepStrictEqual(fwd.targets.map((t) => [t.name, t.addr, t.weight]), [
    ["target-0", "a:1", 2],
    ["target-1", "b:1", 1],
    ["c", "c:1", 1],
  ]);
  deepStrictEqual(fwd.selector.opts, { strategy: "fifo", maxFails: 3, failTimeout: 60_000 });
  equal(buildForwarder(undefined, errors), undefined);
});

Deno.test("build service: a forwarding handler with no target, and a chain that does not exist", async () => {
  const text = (await report(`services:
  - addr: 127.0.0.1:0
    handler:
      type: tcp
      chain: c9
`)).split("\n");
  deepStrictEqual(text, [
    'line 5: services[0].handler.chain: chain "c9" does not exist (defined: none)',
    "line 2: services[0].forwarder: the tcp handler needs a target (e.g. tcp://127.0.0.1:0/host:port) or a chain ending in a forward or relay node",
  ]);
});
