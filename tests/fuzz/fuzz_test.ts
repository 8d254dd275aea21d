/**
 * The fuzz harness in the normal test suite: every target gets its seeds, the regression
 * inputs and a few thousand mutated inputs (a few seconds in all); `deno task fuzz` runs a
 * million per target.
 * @module
 */
import { formatFailure, fuzz, realFailures } from "./harness.ts";
import { ALL_TARGETS, SELFTEST_TARGETS } from "./targets.ts";

Deno.test({
  name: "fuzz: every parser survives its seeds, the regressions and up to 2,000 mutated inputs (1 s each)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const results = await fuzz({
      targets: ALL_TARGETS.map((t) => t.name),
      inputs: 2000,
      seconds: 1,
      seed: 7,
    });
    const failures = realFailures(results);
    if (failures.length) throw new Error(failures.map(formatFailure).join("\n"));
    if (results.length !== ALL_TARGETS.length) throw new Error(`only ${results.length} targets ran`);
  },
});

Deno.test({
  name: "fuzz: the harness reports a planted crash, hang, endless loop and huge allocation with the input",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const results = await fuzz({
      targets: SELFTEST_TARGETS.map((t) => t.name),
      inputs: 2000,
      seconds: 5,
      hangMs: 500,
    });
    const kinds = Object.fromEntries(results.map((r) => [r.target, r.failures.map((f) => f.kind)]));
    const want = {
      "selftest.crash": ["crash"],
      "selftest.hang": ["hang"],
      "selftest.spin": ["hang"],
      "selftest.alloc": ["allocation"],
    };
    if (JSON.stringify(kinds) !== JSON.stringify(want)) throw new Error(`reported ${JSON.stringify(kinds)}`);
    for (const r of results) {
      const f = r.failures[0];
      const n = f.hex.length / 2;
      const ok = r.target === "selftest.crash"
        ? n % 5 === 3
        : r.target === "selftest.alloc"
        ? n % 5 === 2
        : n % 7 === 4;
      if (!ok) throw new Error(`${r.target}: reported an input of ${n} bytes, not the one that failed`);
      if (!formatFailure(f).includes(r.target)) throw new Error("the report does not name the target");
    }
  },
});
