/**
 * `admissions:` section → named admissions, and a service's `admission`/`admissions` → one
 * {@link Admission}.
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { FileWatch } from "../core/list_source.ts";
import type { Logger } from "../core/log.ts";
import type { Pattern } from "../core/matcher.ts";
import { lookupRefs, parseFilePatterns, parsePatternLists } from "../core/pattern_list.ts";
import { type Admission, AdmissionGroup, MatcherAdmission } from "./admission.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

/** Admissions test client IPs: no ports, and names are resolved rather than matched as names. */
function checkAdmissionPattern(p: Pattern): string | undefined {
  if (p.ports !== null) return "an admission matches client addresses, which have no port to match";
  if (p.kind === "domainTree" || p.kind === "subdomains" || p.kind === "glob") {
    return "an admission takes IPs, CIDRs, IP ranges or a host name to resolve, not a domain pattern";
  }
  return undefined;
}

/** Builds every `admissions:` entry; their timers are pushed to `closers`. */
export function buildAdmissions(
  section: unknown,
  errors: ConfigError[],
  log: Logger,
  closers: (() => void)[],
): Map<string, MatcherAdmission> {
  const out = new Map<string, MatcherAdmission>();
  for (const e of parsePatternLists(section, "admissions", errors, checkAdmissionPattern)) {
    const alog = log.with({ kind: "admission", admission: e.name });
    const adm = new MatcherAdmission(
      e.name,
      [...e.inline, ...e.fromFile],
      e.whitelist,
      alog,
      e.source.reloadMs,
    );
    out.set(e.name, adm);
    closers.push(() => adm.close());
    const file = e.source.file;
    if (file && e.fileText !== undefined && e.source.reloadMs > 0) {
      const watch = new FileWatch(file, e.source.reloadMs, e.fileText, (lines) => {
        const patterns = [...e.inline, ...parseFilePatterns(file, lines, checkAdmissionPattern)];
        adm.replace(patterns).catch((err) => alog.warn(`reload ${file}: ${(err as Error).message}`));
      }, alog);
      closers.push(() => watch.close());
    }
  }
  return out;
}

/** A service's admission (`admission` and `admissions`), or undefined for none. */
export function admissionAt(
  svc: Rec,
  path: string,
  defined: Map<string, Admission>,
  errors: ConfigError[],
): Admission | undefined {
  const list = lookupRefs(
    svc.admission,
    svc.admissions,
    path,
    ["admission", "admissions"],
    defined,
    "admission",
    errors,
  );
  if (list.length === 0) return undefined;
  return list.length === 1 ? list[0] : new AdmissionGroup(list);
}
