/**
 * Every example config in `config/` (the user documentation's YAML, as written there) must
 * load and build. An example that needs a component type nobody has registered yet is
 * skipped with a message naming the type, so this test tightens itself as protocols land.
 */
import { equal } from "node:assert/strict";
import { rootLogger } from "../core/log.ts";
import { buildRuntime } from "../service/build.ts";
import { formatConfigErrors, loadConfigSource } from "./load.ts";

const DIR = new URL("../../config/", import.meta.url);
const files = [...Deno.readDirSync(DIR)].filter((e) => e.isFile && e.name.endsWith(".yaml")).map((e) =>
  e.name
)
  .sort();

Deno.test("examples: config/ holds the documentation's examples", () => {
  equal(files.length >= 20, true, `only ${files.length} files in config/`);
});

const UNKNOWN_TYPE = /unknown (handler|listener|connector|dialer) type "([^"]+)"/;

for (const name of files) {
  Deno.test(`examples: config/${name} loads and builds`, async () => {
    const path = new URL(name, DIR).pathname;
    const { config, sources } = await loadConfigSource(path);
    const { runtime, errors } = await buildRuntime(config, rootLogger.with({ test: name }));
    if (runtime) {
      for (const chain of runtime.chains.values()) chain.close();
      await Promise.all(runtime.services.map((s) => s.close()));
      return;
    }
    const missing = errors.map((e) => UNKNOWN_TYPE.exec(e.message));
    if (missing.every((m) => m !== null)) {
      const types = [...new Set(missing.map((m) => `${m![1]} "${m![2]}"`))].join(", ");
      console.warn(`SKIP config/${name}: needs ${types}, not registered yet`);
      return;
    }
    throw new Error(`config/${name} does not build:\n${formatConfigErrors(errors, sources)}`);
  });
}
