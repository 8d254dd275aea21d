/**
 * js-yaml, imported on first use. A command line of `-L`/`-F` only never reads or prints
 * YAML, and importing the library at start costs every such start ~5 ms and ~3 MiB
 * (tests/bench/startup.ts).
 * @module
 */
import type yamlModule from "js-yaml";

/** The js-yaml API (`load`, `dump`, …). */
export type Yaml = typeof yamlModule;

let loading: Promise<Yaml> | undefined;

/** Resolves with js-yaml, importing it the first time. */
export function yaml(): Promise<Yaml> {
  return loading ??= import("js-yaml").then((m) => m.default);
}
