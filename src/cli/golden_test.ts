/**
 * The golden table: command lines with the YAML real gost 3.2.6 printed for them (`-O yaml`).
 * Our mapping must give the same structure once both are parsed.
 */
import { deepStrictEqual } from "node:assert/strict";
import yaml from "js-yaml";
import { parseFlags } from "./flags.ts";
import { buildConfigFromArgs } from "./build.ts";
import { configToText } from "../config/output.ts";

interface GoldenCase {
  args: string[];
  yaml: string;
}

// What gost 3.2.6 printed with -O yaml for each command line, captured from the real binary.
const GOLDEN_PATH = new URL("./testdata/cli-golden.json", import.meta.url);
const golden = JSON.parse(await Deno.readTextFile(GOLDEN_PATH)) as { cases: GoldenCase[] };

for (const [i, c] of golden.cases.entries()) {
  Deno.test(`golden ${i}: gost ${c.args.join(" ")}`, async () => {
    const flags = parseFlags(c.args);
    const { config } = buildConfigFromArgs(flags.services, flags.nodes);
    const expected = yaml.load(c.yaml);
    // Compare what we print (after a YAML round trip), not just the in-memory object.
    const printed = yaml.load(await configToText(config, "yaml"));
    deepStrictEqual(printed, expected);
  });
}

Deno.test("golden table has all 41 cases", () => {
  if (golden.cases.length !== 41) throw new Error(`expected 41 cases, found ${golden.cases.length}`);
});

// Command lines of the policy sections and the newer channels, by gost's documented rules
// (testdata/cli-golden-rules.json says how they were made).
const RULES_PATH = new URL("./testdata/cli-golden-rules.json", import.meta.url);
const rules = JSON.parse(await Deno.readTextFile(RULES_PATH)) as { cases: GoldenCase[] };

for (const c of rules.cases) {
  Deno.test(`golden (rules): gost ${c.args.join(" ")}`, async () => {
    const flags = parseFlags(c.args);
    const { config } = buildConfigFromArgs(flags.services, flags.nodes);
    deepStrictEqual(yaml.load(await configToText(config, "yaml")), yaml.load(c.yaml));
  });
}
