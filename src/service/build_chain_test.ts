import { deepStrictEqual, equal } from "node:assert/strict";
import { formatConfigErrors, parseConfigText } from "../config/load.ts";
import { configureLog } from "../core/log.ts";
import { buildRuntime } from "./build.ts";

configureLog({ sink: () => {} });

const CHAIN = (selector: string, nodeMd: string, connector = "socks5") =>
  `chains:
  - name: c0
    hops:
      - selector: ${selector}
        nodes:
          - addr: 127.0.0.1:1080
            connector:
              type: ${connector}
            metadata: ${nodeMd}
          - name: n1
            addr: 127.0.0.1:1081
`;

async function build(text: string) {
  const { config, sources } = await parseConfigText(text, "gost.yaml");
  const { runtime, errors } = await buildRuntime(config);
  for (const c of runtime?.chains.values() ?? []) c.close();
  return { runtime, report: formatConfigErrors(errors, sources) };
}

Deno.test("build chain: a hop's maxFails below 0 and an unknown strategy are errors with lines", async () => {
  deepStrictEqual((await build(CHAIN("{strategy: best, maxFails: -1}", "{}"))).report.split("\n"), [
    'line 4: chains[0].hops[0].selector.strategy: invalid value "best": expected one of: round, rr, rand, random, fifo, ha, hash',
    "line 4: chains[0].hops[0].selector.maxFails: invalid value -1: must be at least 0",
  ]);
});

Deno.test("build chain: a node weight that is not an integer, or an unknown connector type, is an error with its line", async () => {
  equal(
    (await build(CHAIN("{}", "{weight: abc}"))).report,
    'line 9: chains[0].hops[0].nodes[0].metadata.weight: invalid value "abc": expected an integer',
  );
  equal(
    (await build(CHAIN("{}", "{}", "sock5"))).report.split(" (supported")[0],
    'line 8: chains[0].hops[0].nodes[0].connector.type: unknown connector type "sock5"',
  );
});

Deno.test("build chain: hops and nodes get their names, weights and the selector's options", async () => {
  const { runtime, report } = await build(
    CHAIN("{strategy: random, failTimeout: 3s}", "{weight: 5, backup: true}"),
  );
  equal(report, "");
  const hop = runtime!.chains.get("c0")!.hops[0];
  equal(hop.name, "hop-0");
  deepStrictEqual(hop.selector.opts, { strategy: "rand", maxFails: 1, failTimeout: 3000 });
  deepStrictEqual(hop.nodes.map((n) => [n.name, n.addr, n.weight, n.backup]), [
    ["node-0", "127.0.0.1:1080", 5, true],
    ["n1", "127.0.0.1:1081", 1, false],
  ]);
});

Deno.test("build chain: a node's own maxFails and failTimeout are kept for its selector (unset ones stay unset)", async () => {
  const { runtime, report } = await build(CHAIN("{maxFails: 1}", "{maxFails: 4, failTimeout: 2m}"));
  equal(report, "");
  const [own, plain] = runtime!.chains.get("c0")!.hops[0].nodes;
  deepStrictEqual(own.fail, { maxFails: 4, failTimeout: 120_000 });
  deepStrictEqual(plain.fail, { maxFails: undefined, failTimeout: undefined });
  equal(
    (await build(CHAIN("{}", "{maxFails: many}"))).report,
    'line 9: chains[0].hops[0].nodes[0].metadata.maxFails: invalid value "many": expected an integer',
  );
});
