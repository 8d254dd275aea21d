/**
 * `bypasses:` section → named bypasses, and the `bypass`/`bypasses` references of services, hops
 * and nodes → one {@link Bypass} each.
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { FileWatch } from "../core/list_source.ts";
import type { Logger } from "../core/log.ts";
import { lookupRefs, parseFilePatterns, parsePatternLists } from "../core/pattern_list.ts";
import { type Bypass, groupBypasses, MatcherBypass } from "./bypass.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

/** Builds every `bypasses:` entry; file watches are pushed to `closers`. */
export function buildBypasses(
  section: unknown,
  errors: ConfigError[],
  log: Logger,
  closers: (() => void)[],
): Map<string, MatcherBypass> {
  const out = new Map<string, MatcherBypass>();
  for (const e of parsePatternLists(section, "bypasses", errors)) {
    const cfg = e.cfg;
    let network = "";
    if (cfg.network !== undefined && cfg.network !== null && cfg.network !== "") {
      if (cfg.network !== "tcp" && cfg.network !== "udp") {
        errors.push(
          new ConfigError(`${e.path}.network`, `expected tcp or udp, got ${JSON.stringify(cfg.network)}`),
        );
      } else network = cfg.network;
    }
    const bp = new MatcherBypass(e.name, [...e.inline, ...e.fromFile], e.whitelist, network);
    out.set(e.name, bp);
    const file = e.source.file;
    if (file && e.fileText !== undefined && e.source.reloadMs > 0) {
      const blog = log.with({ kind: "bypass", bypass: e.name });
      const watch = new FileWatch(file, e.source.reloadMs, e.fileText, (lines) => {
        bp.replace([...e.inline, ...parseFilePatterns(file, lines)]);
      }, blog);
      closers.push(() => watch.close());
    }
  }
  return out;
}

/** The bypass of a place (`obj.bypass` and `obj.bypasses`), or undefined for none. */
export function bypassAt(
  obj: Rec | undefined,
  path: string,
  defined: Map<string, Bypass>,
  errors: ConfigError[],
): Bypass | undefined {
  if (!obj) return undefined;
  return groupBypasses(
    lookupRefs(obj.bypass, obj.bypasses, path, ["bypass", "bypasses"], defined, "bypass", errors),
  );
}
