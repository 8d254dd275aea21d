/**
 * Builds the `limiters:`, `climiters:` and `rlimiters:` sections into named limiters, and a
 * service's {@link LimitPolicy} from its `limiter`, `climiter` and `rlimiter` references. Every
 * problem is a config error with its path (`limiters[0].limits[2]`; a file's line in the message);
 * loaders that do not exist here (redis, http, plugin) are refused rather than skipped.
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, type Metadata, opt } from "../core/options.ts";
import { ConnLimiter } from "./conn.ts";
import { isAddressScope } from "./ip_table.ts";
import { type CountLimit, parseCountLimit, parseTrafficLimit, type TrafficLimit } from "./limits.ts";
import { LimitPolicy, type Watched } from "./policy.ts";
import { RateLimiter } from "./rate.ts";
import { FileReloader, type LineParser, parseFile } from "./source.ts";
import { TrafficLimiter } from "./traffic.ts";

/** Service metadata gost reads for its traffic limiter. */
export const limiterKeys = defineOptions({
  scope: opt.oneOf("limiter.scope", "", ["", "service", "conn"] as const),
  // How often gost's cache asks the limiter again; here changes apply at once, so no cache.
  refreshInterval: opt.duration("limiter.refreshInterval", 30_000),
  cleanupInterval: opt.duration("limiter.cleanupInterval", 60_000),
  // The command line's forms: gost turns them into sections and leaves them in the listener's
  // and the service's metadata, where they mean nothing more (see cliLeftovers).
  in: opt.string("limiter.in", ""),
  out: opt.string("limiter.out", ""),
  connIn: opt.string("limiter.conn.in", ""),
  connOut: opt.string("limiter.conn.out", ""),
  climiter: opt.string("climiter", ""),
  rlimiter: opt.string("rlimiter", ""),
});

/** The command-line keys, and the service reference each one stands for. */
const CLI_KEYS: Record<string, string> = {
  "limiter.in": "limiter",
  "limiter.out": "limiter",
  "limiter.conn.in": "limiter",
  "limiter.conn.out": "limiter",
  climiter: "climiter",
  rlimiter: "rlimiter",
};

/**
 * Command-line limiter keys in a config file's metadata: gost reads them on the command line only,
 * so there they limit nothing — an error, unless the service has the section they became.
 */
function cliLeftovers(s: Rec, spath: string, errors: ConfigError[]): void {
  const places = [[s.metadata, "metadata"], [s.handler?.metadata, "handler.metadata"], [
    s.listener?.metadata,
    "listener.metadata",
  ]] as const;
  for (const [md, p] of places) {
    if (!isRecord(md)) continue;
    for (const key of Object.keys(md)) {
      const ref = CLI_KEYS[key.toLowerCase()];
      if (!ref || isSet(s[ref]) || !isSet(md[key])) continue;
      errors.push(
        new ConfigError(
          `${spath}.${p}.${key}`,
          `limits nothing in a config file (gost reads it on the command line only); refusing to start — use a ${ref}s section and ${ref}: NAME`,
        ),
      );
    }
  }
}

/** A built limiter and the file it watches, if any. */
export interface Built<T> {
  limiter: T;
  watched?: Watched;
}

/** Every named limiter of a config. */
export interface Limiters {
  traffic: Map<string, Built<TrafficLimiter>>;
  conn: Map<string, Built<ConnLimiter>>;
  rate: Map<string, Built<RateLimiter>>;
}

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;
const isRecord = (v: unknown): v is Rec => !!v && typeof v === "object" && !Array.isArray(v);
const isSet = (v: unknown) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && !v.length);

function buildSection<L, T extends { update(limits: L[]): void }>(
  section: string,
  cfgs: unknown,
  parse: LineParser<L>,
  make: (limits: L[]) => T,
  log: Logger,
  errors: ConfigError[],
): Map<string, Built<T>> {
  const out = new Map<string, Built<T>>();
  if (cfgs === undefined || cfgs === null) return out;
  if (!Array.isArray(cfgs)) {
    errors.push(new ConfigError(section, "expected a list of limiters"));
    return out;
  }
  cfgs.forEach((c, i) => {
    const path = `${section}[${i}]`;
    if (!isRecord(c)) return errors.push(new ConfigError(path, "expected a mapping with name and limits"));
    if (typeof c.name !== "string" || !c.name) {
      return errors.push(new ConfigError(`${path}.name`, "a limiter needs a name"));
    }
    if (out.has(c.name)) {
      errors.push(new ConfigError(`${path}.name`, `duplicate name ${JSON.stringify(c.name)}`));
    }
    for (const k of ["redis", "http", "plugin"]) {
      if (isSet(c[k])) {
        errors.push(
          new ConfigError(
            `${path}.${k}`,
            `the ${k} loader is not supported; refusing to start rather than run without the limits it holds (use limits or file)`,
          ),
        );
      }
    }
    const inline: L[] = [];
    if (c.limits !== undefined && c.limits !== null && !Array.isArray(c.limits)) {
      errors.push(new ConfigError(`${path}.limits`, "expected a list of limit lines"));
    }
    (Array.isArray(c.limits) ? c.limits : []).forEach((line: unknown, li: number) => {
      try {
        const l = parse(String(line ?? ""));
        if (l) inline.push(l);
      } catch (err) {
        errors.push(new ConfigError(`${path}.limits[${li}]`, errorMessage(err)));
      }
    });
    let period = 0;
    if (isSet(c.reload)) {
      const ms = parseDuration(c.reload);
      if (ms === null) {
        errors.push(new ConfigError(`${path}.reload`, `invalid duration ${JSON.stringify(c.reload)}`));
      } else period = ms;
    }
    let fromFile: L[] = [];
    let reloader: FileReloader<L> | undefined;
    if (isSet(c.file)) {
      const file = isRecord(c.file) ? c.file.path : undefined;
      if (typeof file !== "string" || !file) {
        errors.push(new ConfigError(`${path}.file`, "expected a mapping with path"));
      } else {
        try {
          const text = Deno.readTextFileSync(file);
          fromFile = parseFile(text, file, parse);
          reloader = new FileReloader(file, period, text, parse, (lines) => {
            limiter.update([...inline, ...lines]);
          }, log.with({ kind: "limiter", limiter: c.name }));
        } catch (err) {
          errors.push(new ConfigError(`${path}.file.path`, errorMessage(err)));
        }
      }
    }
    // The file's lines come last: for a scope given twice, the file wins (gost's priority).
    const limiter = make([...inline, ...fromFile]);
    out.set(c.name, { limiter, watched: reloader });
  });
  return out;
}

/** Builds the three limiter sections of `config`. */
export function buildLimiters(config: Rec, log: Logger, errors: ConfigError[]): Limiters {
  const traffic = (l: string) => parseTrafficLimit(l, isAddressScope);
  const count = (kind: "climiter" | "rlimiter") => (l: string) => parseCountLimit(l, kind, isAddressScope);
  return {
    traffic: buildSection<TrafficLimit, TrafficLimiter>(
      "limiters",
      config.limiters,
      traffic,
      (l) => new TrafficLimiter(l),
      log,
      errors,
    ),
    conn: buildSection<CountLimit, ConnLimiter>(
      "climiters",
      config.climiters,
      count("climiter"),
      (l) => new ConnLimiter(l),
      log,
      errors,
    ),
    rate: buildSection<CountLimit, RateLimiter>(
      "rlimiters",
      config.rlimiters,
      count("rlimiter"),
      (l) => new RateLimiter(l),
      log,
      errors,
    ),
  };
}

/**
 * The limiters service `s` (at `spath`) names, or undefined when it names none. A name that
 * does not exist is an error listing the defined ones; so is `handler.limiter`, which gost
 * applies per authenticated client through a plugin only (its built-in limits leave a handler
 * unlimited there).
 */
export function limitPolicyFor(
  s: Rec,
  spath: string,
  smd: Metadata,
  limiters: Limiters,
  errors: ConfigError[],
): LimitPolicy | undefined {
  const ref = <T>(key: string, section: string, map: Map<string, Built<T>>): Built<T> | undefined => {
    const name = s[key];
    if (!isSet(name)) return undefined;
    const found = map.get(String(name));
    if (!found) {
      const defined = [...map.keys()].join(", ") || "none";
      errors.push(
        new ConfigError(
          `${spath}.${key}`,
          `${section} entry ${JSON.stringify(name)} does not exist (defined: ${defined})`,
        ),
      );
    }
    return found;
  };
  cliLeftovers(s, spath, errors);
  const traffic = ref("limiter", "limiters", limiters.traffic);
  const climiter = ref("climiter", "climiters", limiters.conn);
  const rlimiter = ref("rlimiter", "rlimiters", limiters.rate);
  if (isRecord(s.handler) && isSet(s.handler.limiter)) {
    errors.push(
      new ConfigError(
        `${spath}.handler.limiter`,
        "gost applies a handler's limiter per authenticated client, which only a limiter plugin answers (inline and file limits leave the handler unlimited); refusing to start — put the limiter on the service (limiter: NAME beside handler)",
      ),
    );
  }
  if (traffic && isRecord(s.listener) && String(s.listener.type).toLowerCase() === "sshd") {
    // The sshd listener yields channel requests that its handler opens; there is no stream to pace yet.
    errors.push(
      new ConfigError(
        `${spath}.limiter`,
        "a traffic limiter on an sshd listener is not enforced yet; refusing to start rather than run unlimited (climiter and rlimiter work there)",
      ),
    );
  }
  if (!traffic && !climiter && !rlimiter) return undefined;
  let scope: "" | "service" | "conn" = "";
  try {
    scope = limiterKeys.parse(smd, `${spath}.metadata`).scope;
  } catch (err) {
    errors.push(err as ConfigError);
  }
  const watched = [traffic, climiter, rlimiter].flatMap((b) => b?.watched ? [b.watched] : []);
  return new LimitPolicy(traffic?.limiter, scope, climiter?.limiter, rlimiter?.limiter, watched);
}
