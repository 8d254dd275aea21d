/**
 * The fuzz harness in the normal test suite: every target gets its seeds, the regression
 * inputs and a few thousand mutated inputs (a few seconds in all); `deno task fuzz` runs a
 * million per target.
 * @module
 */
import { formatFailure, fuzz } from "./harness.ts";
import { ALL_TARGETS } from "./targets.ts";

Deno.test({
  name: "fuzz: every parser survives its seeds, the regressions and 2,000 mutated inputs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const results = await fuzz({
      targets: ALL_TARGETS.map((t) => t.name),
      inputs: 2000,
      seconds: 5,
      seed: 7,
    });
    const failures = results.flatMap((r) => r.failures);
    if (failures.length) throw new Error(failures.map(formatFailure).join("\n"));
    if (results.length !== ALL_TARGETS.length) throw new Error(`only ${results.length} targets ran`);
  },
});
