/**
 * `hosts:` section → host mappers by name. Every problem is a config error with its path:
 * a bad IP, a missing file, and the sources gost-deno does not read yet (`redis`, `http`,
 * `plugin`) — ignoring one would send a mapped name to DNS, somewhere the user did not mean.
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { HostMapper, type HostMapping, isIP, parseHostsText } from "./hosts.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== "";
}

function inlineMappings(list: unknown, path: string, errors: ConfigError[]): HostMapping[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    errors.push(new ConfigError(path, "expected a list of {ip, hostname, aliases}"));
    return [];
  }
  const out: HostMapping[] = [];
  list.forEach((m, i) => {
    const mpath = `${path}[${i}]`;
    if (!isRecord(m)) return errors.push(new ConfigError(mpath, "expected a mapping with ip and hostname"));
    const ip = typeof m.ip === "string" ? m.ip.trim().replace(/^\[|\]$/g, "") : "";
    if (!isIP(ip)) {
      return errors.push(
        new ConfigError(`${mpath}.ip`, `${JSON.stringify(m.ip)} is not an IPv4 or IPv6 address`),
      );
    }
    if (typeof m.hostname !== "string" || m.hostname.trim() === "") {
      return errors.push(new ConfigError(`${mpath}.hostname`, "a mapping needs a hostname"));
    }
    out.push({ hostname: m.hostname, ip });
    const aliases = m.aliases ?? [];
    if (!Array.isArray(aliases)) {
      return errors.push(new ConfigError(`${mpath}.aliases`, "expected a list of names"));
    }
    for (const a of aliases) if (typeof a === "string" && a.trim()) out.push({ hostname: a, ip });
  });
  return out;
}

/** Keys of one `hosts:` entry and of one mapping (others are warned about). */
const ENTRY_KEYS = new Set(["name", "mappings", "reload", "file", "redis", "http", "plugin"]);
const MAPPING_KEYS = new Set(["ip", "hostname", "aliases"]);

function unknownKeys(v: Rec, known: Set<string>, path: string, warnings: string[]): void {
  for (const k of Object.keys(v)) if (!known.has(k)) warnings.push(`${path}.${k}: unknown field, ignored`);
}

function buildOne(
  cfg: Rec,
  path: string,
  errors: ConfigError[],
  warnings: string[],
  log: Logger,
): HostMapper | undefined {
  unknownKeys(cfg, ENTRY_KEYS, path, warnings);
  const before = errors.length;
  for (const key of ["redis", "http", "plugin"]) {
    if (isSet(cfg[key])) {
      errors.push(
        new ConfigError(
          `${path}.${key}`,
          `hosts from ${key} are not supported yet; refusing to start rather than resolve these names elsewhere (use mappings or file)`,
        ),
      );
    }
  }
  const inline = inlineMappings(cfg.mappings, `${path}.mappings`, errors);
  if (Array.isArray(cfg.mappings)) {
    cfg.mappings.forEach((m: unknown, i: number) => {
      if (isRecord(m)) unknownKeys(m, MAPPING_KEYS, `${path}.mappings[${i}]`, warnings);
    });
  }
  let reload = 0;
  if (isSet(cfg.reload)) {
    const ms = parseDuration(cfg.reload);
    if (ms === null) {
      errors.push(
        new ConfigError(`${path}.reload`, `invalid duration ${JSON.stringify(cfg.reload)} (e.g. "10s")`),
      );
    } else reload = ms;
  }
  let file: { path: string; reload: number; text: string } | undefined;
  if (isSet(cfg.file)) {
    const fpath = isRecord(cfg.file) ? cfg.file.path : undefined;
    if (typeof fpath !== "string" || fpath === "") {
      errors.push(new ConfigError(`${path}.file.path`, "a file source needs a path"));
    } else {
      try {
        const text = Deno.readTextFileSync(fpath);
        const bad = parseHostsText(text).bad;
        if (bad.length) {
          warnings.push(`${path}.file.path: ${fpath}: lines ${bad.join(", ")} skipped (not "IP name")`);
        }
        file = { path: fpath, reload, text };
      } catch (err) {
        errors.push(
          new ConfigError(
            `${path}.file.path`,
            `cannot read hosts file ${JSON.stringify(fpath)}: ${errorMessage(err)}`,
          ),
        );
      }
    }
  }
  if (errors.length > before) return undefined;
  return new HostMapper(String(cfg.name), inline, file, log.with({ kind: "hosts", hosts: cfg.name }));
}

/**
 * Builds every entry of `hosts:`; problems go to `errors`. Call `close()` on each mapper
 * when the config is retired (it may hold a reload timer).
 */
export function buildHosts(
  section: unknown,
  errors: ConfigError[],
  warnings: string[],
  log: Logger,
): Map<string, HostMapper> {
  const out = new Map<string, HostMapper>();
  if (section === undefined || section === null) return out;
  if (!Array.isArray(section)) {
    errors.push(new ConfigError("hosts", "expected a list of host mappers"));
    return out;
  }
  const seen = new Set<string>();
  section.forEach((cfg, i) => {
    const path = `hosts[${i}]`;
    if (!isRecord(cfg)) {
      return errors.push(new ConfigError(path, "expected a mapping with name and mappings"));
    }
    if (typeof cfg.name !== "string" || cfg.name === "") {
      return errors.push(new ConfigError(`${path}.name`, "a host mapper needs a name"));
    }
    if (seen.has(cfg.name)) {
      return errors.push(new ConfigError(`${path}.name`, `duplicate hosts name ${JSON.stringify(cfg.name)}`));
    }
    seen.add(cfg.name);
    // One that failed stays defined (empty), so references to it are not reported as well.
    out.set(cfg.name, buildOne(cfg, path, errors, warnings, log) ?? new HostMapper(cfg.name, []));
  });
  return out;
}
