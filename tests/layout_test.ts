/**
 * The project stands alone and `src/` ships no test support: checks over every file of the checkout.
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

const SKIP = new Set([".git", "node_modules", "dist"]);

/** Every file of the checkout (relative paths), without VCS, build output and dependencies. */
async function files(dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(ROOT + dir)) {
    if (SKIP.has(e.name)) continue;
    const path = dir + e.name;
    if (e.isDirectory) out.push(...await files(path + "/"));
    else if (e.isFile) out.push(path);
  }
  return out;
}

Deno.test("layout: no file of the project names a folder outside it (a clean clone must pass its tests)", async () => {
  // Spelled in parts so that this file does not name it either.
  const outside = ["..", "shared"].join("/");
  const bad: string[] = [];
  for (const f of await files()) {
    if (!/\.(ts|md|json|yaml|yml|sh)$|^\.ci\//.test(f)) continue;
    const text = await Deno.readTextFile(ROOT + f);
    if (text.includes(outside) || text.includes("shared" + "/reference")) bad.push(f);
  }
  assert.deepEqual(bad, []);
});

Deno.test("layout: only *_test.ts files in src/ import from tests/ (test support lives in tests/)", async () => {
  const bad: string[] = [];
  for (const f of await files("src/")) {
    if (!f.endsWith(".ts") || f.endsWith("_test.ts")) continue;
    const text = await Deno.readTextFile(ROOT + f);
    if (/from\s+["'][./]*\/tests\//.test(text)) bad.push(f);
  }
  assert.deepEqual(bad, []);
});
