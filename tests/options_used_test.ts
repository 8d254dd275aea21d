/**
 * Every option a component declares does something: for each factory of the four registries,
 * each option field is either declared with `opt.ignored` (start warns that it has no effect)
 * or read somewhere in the component's code.
 *
 * "Read" is checked on the source text: the field name must appear as a word, outside comments
 * and strings and other than in an option declaration (`field: opt.…(`), in the module the
 * registry loads for that type or in a module it imports (shared option sets such as the mux or
 * TLS ones are read where they are turned into settings). A name that is read elsewhere in that
 * code for another purpose can hide a dead option, so this catches options nobody wired up, not
 * every misuse.
 * @module
 */
import assert from "node:assert/strict";
import { closure, moduleGraph, SRC, stripComments } from "./_sources.ts";
import { connectors } from "../src/connector/mod.ts";
import { dialers } from "../src/dialer/mod.ts";
import { handlers } from "../src/handler/mod.ts";
import { listeners } from "../src/listener/mod.ts";
import type { OptionSchema, OptionSpec } from "../src/core/options.ts";
import type { Registry } from "../src/core/registry.ts";

// deno-lint-ignore no-explicit-any
type AnyRegistry = Registry<{ options: OptionSchema<any> }>;
const KINDS: [string, AnyRegistry][] = [
  ["handler", handlers],
  ["listener", listeners],
  ["connector", connectors],
  ["dialer", dialers],
];

/** Type name → the module (relative to src/) its factory comes from, read from `<kind>/mod.ts`. */
async function factoryModules(kind: string): Promise<Map<string, string>> {
  const text = stripComments(await Deno.readTextFile(`${SRC}${kind}/mod.ts`));
  const imported = new Map<string, string>();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"\.\/([^"]+)"/g)) {
    for (const name of m[1].split(",")) imported.set(name.trim(), m[2]);
  }
  const out = new Map<string, string>();
  for (const m of text.matchAll(/\.register\(\s*"([^"]+)",\s*([\s\S]*?)\);\n/g)) {
    const lazy = m[2].match(/import\("\.\/([^"]+)"\)/);
    const eager = m[2].match(/options:\s*(\w+)/);
    const file = lazy?.[1] ?? (eager ? imported.get(eager[1]) : undefined) ?? "mod.ts";
    out.set(m[1], `${kind}/${file}`);
  }
  return out;
}

Deno.test("options: every declared option of every component is read or declared ignored", async () => {
  const graph = await moduleGraph();
  const code = new Map<string, string>();
  for (const f of graph.keys()) code.set(f, stripComments(await Deno.readTextFile(SRC + f), false));
  const unread: string[] = [];
  for (const [kind, registry] of KINDS) {
    await registry.loadAll();
    const modules = await factoryModules(kind);
    for (const type of registry.names()) {
      const file = modules.get(type);
      assert.ok(file && graph.has(file), `${kind} ${type}: its module was not found in ${kind}/mod.ts`);
      // The component's own folder, and the modules of shared option sets (they declare `opt.`).
      const scope = [...closure(graph, file), `${kind}/mod.ts`].filter((f) =>
        f.startsWith(`${kind}/`) || (f !== "core/options.ts" && /\bopt\.\w+\(/.test(code.get(f) ?? ""))
      );
      const text = scope.map((f) => code.get(f) ?? "").join("\n");
      const schema = registry.get(type, "test").options;
      for (const [field, spec] of Object.entries(schema.schema as Record<string, OptionSpec<unknown>>)) {
        if (spec.ignored !== undefined) continue;
        const uses = text.match(new RegExp(`\\b${field}\\b(?!\\s*:\\s*opt\\.)`, "g"));
        if (!uses) unread.push(`${kind} ${type}: ${field} (${spec.names.join(", ")})`);
      }
    }
  }
  assert.deepEqual(
    unread,
    [],
    `options declared but never read (implement them, or declare them with opt.ignored):\n  ${
      unread.join("\n  ")
    }`,
  );
});
