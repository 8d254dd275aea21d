/**
 * The source text of `src/` as tests read it: files, their relative imports (static, type-only,
 * re-exports, side-effect and literal `import()`), and code with comments or strings removed.
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";

/** Absolute path of `src/`, with a trailing slash. */
export const SRC: string = new URL("../src/", import.meta.url).pathname;

const TOKENS = /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g;

/**
 * `text` without comments; string literals stay (`keepStrings`) or become `""` (a template
 * literal keeps its `${…}` expressions: they are code).
 */
export function stripComments(text: string, keepStrings = true): string {
  return text.replace(TOKENS, (_m, s: string | undefined) => {
    if (s === undefined) return " ";
    if (keepStrings) return s;
    if (!s.startsWith("`")) return '""';
    return [...s.matchAll(/\$\{([^}]*)\}/g)].map((m) => ` ${m[1]} `).join("") || '""';
  });
}

/** Relative specifiers of every `import`/`export … from`, side-effect import and literal `import()`. */
export function importsOf(text: string): string[] {
  const code = stripComments(text);
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;'"`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*[,)]/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out.filter((s) => s.startsWith("."));
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* sources(p);
    else if (e.name.endsWith(".ts") && !/_(test|bench)\.ts$/.test(e.name)) yield p;
  }
}

/** Every non-test module of `src/` (path relative to it) → the `src/` modules it imports, sorted. */
export async function moduleGraph(): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  for await (const file of sources(SRC)) {
    const deps = importsOf(await Deno.readTextFile(file))
      .map((s) => relative(SRC, normalize(join(dirname(file), s))));
    g.set(relative(SRC, file), [...new Set(deps)].sort());
  }
  return g;
}

/** `from` and every module it reaches through imports. */
export function closure(g: Map<string, string[]>, from: string): string[] {
  const seen = new Set<string>([from]);
  const todo = [from];
  while (todo.length) {
    for (const d of g.get(todo.pop()!) ?? []) if (!seen.has(d)) seen.add(d), todo.push(d);
  }
  return [...seen];
}
