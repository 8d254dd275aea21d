/**
 * `deno task fuzz`: every wire parser and config builder fed mutated golden inputs and random
 * bytes, 1,000,000 inputs per parser by default (each within a time budget), with inputs/s
 * per parser; exits 1 when any input crashed a parser, hung it over 1 s or made it allocate
 * hugely (each failure is printed with the parser's name and the input in hex).
 *
 *   deno task fuzz [--inputs N] [--seconds S] [--seed N] [--jobs N] [--only name,name] [--list]
 *   (--seconds: budget per parser, default 420; --jobs: parsers fuzzed at once, one worker
 *   thread each, default one per CPU)
 *   deno task fuzz --replay <target> <hex>     run one input in this thread, show the error
 * @module
 */
import { formatFailure, fuzz, realFailures } from "./harness.ts";
import { fromHex } from "./mutate.ts";

/** `--name value` options and bare flags; the rest positional. */
function parseArgs(argv: string[]) {
  const opts: Record<string, string> = {
    inputs: "1000000",
    seconds: "420",
    seed: "1",
    jobs: String(navigator.hardwareConcurrency || 1),
  };
  const flags = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--list" || a === "--replay") flags.add(a.slice(2));
    else if (a.startsWith("--")) opts[a.slice(2)] = argv[++i] ?? "";
    else rest.push(a);
  }
  return { opts, list: flags.has("list"), replay: flags.has("replay"), _: rest };
}
const args = parseArgs(Deno.args);

const { ALL_TARGETS } = await import("./targets.ts");
const names = ALL_TARGETS.map((t) => t.name);

if (args.list) {
  console.log(names.join("\n"));
  Deno.exit(0);
}

if (args.replay) {
  const [name, hex] = args._.map(String);
  const t = ALL_TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no target ${name} (see --list)`);
  await t.seeds();
  try {
    await t.run(fromHex(hex ?? ""));
    console.log("accepted");
  } catch (err) {
    console.log(t.rejects(err) ? "rejected:" : "CRASH:", err);
  }
  await t.done?.();
  Deno.exit(0);
}

const only = args.opts.only ? args.opts.only.split(",") : names;
for (const n of only) if (!names.includes(n)) throw new Error(`no target ${n} (see --list)`);
const inputs = Number(args.opts.inputs), seconds = Number(args.opts.seconds);
console.log(
  `fuzz: ${only.length} targets, ${inputs} inputs each (at most ${seconds} s each), seed ${args.opts.seed}`,
);
console.log(
  `${"target".padEnd(22)} ${"inputs".padStart(9)} ${"rejected".padStart(9)} ${
    "inputs/s".padStart(9)
  }  result`,
);
const started = performance.now();
const jobs = Math.max(1, Number(args.opts.jobs));
const lanes = Array.from({ length: jobs }, (_, j) => only.filter((_, i) => i % jobs === j));
const results = (await Promise.all(lanes.map((targets) =>
  fuzz({
    targets,
    inputs,
    seconds,
    seed: Number(args.opts.seed),
    onProgress: (t, n) => console.error(`  … ${t}: ${n} inputs`),
    onResult(r) {
      const rate = Math.round(r.inputs / (r.ms / 1000));
      const bad = realFailures([r]).length;
      const stalls = r.failures.length - bad;
      const short = r.inputs < inputs && !bad ? " (time budget)" : "";
      console.log(
        `${r.target.padEnd(22)} ${String(r.inputs).padStart(9)} ${String(r.rejected).padStart(9)} ${
          String(rate).padStart(9)
        }  ${bad ? `${bad} FAILED` : "ok"}${short}${
          stalls ? " (a stall that did not repeat, see below)" : ""
        }`,
      );
    },
  })
))).flat();
const failures = realFailures(results);
const stalls = results.flatMap((r) => r.failures).filter((f) => f.kind === "stall");
const total = results.reduce((n, r) => n + r.inputs, 0);
console.log(
  `\n${total} inputs in ${Math.round((performance.now() - started) / 1000)} s, ${failures.length} failures`,
);
for (const f of [...failures, ...stalls]) console.log(formatFailure(f));
Deno.exit(failures.length ? 1 : 0);
