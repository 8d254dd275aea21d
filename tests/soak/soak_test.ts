/**
 * The short soak in the test suite: every probe with small numbers (well under a minute);
 * no legitimate request may fail, except on the probes of the two lockouts fixed on other
 * branches until their env var says so (see main.ts).
 * @module
 */
import { SHORT } from "./probes.ts";
import { countedFailures, formatReport, runSoak } from "./soak.ts";

Deno.test({
  name: "soak (short): load and hostile inputs on 127.0.0.1 fail no legitimate request",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const report = await runSoak(SHORT);
    console.log(formatReport(report));
    if (countedFailures(report)) throw new Error(`legitimate requests failed:\n${formatReport(report)}`);
  },
});
