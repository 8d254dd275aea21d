/**
 * The shape of gost's config: every known key of every section, in the order gost prints
 * them (go-gost/x `config.Config` field order). The loader uses it to accept keys in any
 * case (gost's config reader is case-insensitive) and `-O` uses it to print keys in gost's
 * order. Keys not listed here are kept, after the known ones.
 * @module
 */

/** A field: a scalar, a free-form mapping (metadata), a section, or a list of one of those. */
export type Field = "scalar" | "map" | Section | { list: Field };

/** A section (a YAML mapping with known keys), keys in gost's order. */
export interface Section {
  fields: Record<string, Field>;
}

const s = (fields: Record<string, Field>): Section => ({ fields });
const list = (f: Field): { list: Field } => ({ list: f });
const S = "scalar" as const;
const M = "map" as const;

const auth = s({ username: S, password: S });
const tls = s({
  certFile: S,
  keyFile: S,
  caFile: S,
  secure: S,
  serverName: S,
  options: s({ minVersion: S, maxVersion: S, cipherSuites: list(S) }),
  validity: S,
  commonName: S,
  organization: S,
});
const selector = s({ strategy: S, maxFails: S, failTimeout: S });
const plugin = s({ type: S, addr: S, tls, timeout: S, token: S });
const loaders = {
  reload: S,
  file: s({ path: S }),
  redis: s({ addr: S, db: S, password: S, key: S, type: S }),
  http: s({ url: S, timeout: S }),
  plugin,
};
const matcherList = s({ name: S, reverse: S, whitelist: S, matchers: list(S), ...loaders });
const chainGroup = s({ chains: list(S), selector });
const httpNode = s({ host: S, header: M });
const tlsNode = s({ serverName: S, secure: S, options: tls.fields.options });
const limiter = s({ name: S, limits: list(S), ...loaders });
const endpoint = s({ addr: S, path: S, pathPrefix: S, accesslog: S, auth, auther: S });
const logConfig = s({
  output: S,
  level: S,
  format: S,
  rotation: s({ maxSize: S, maxAge: S, maxBackups: S, localTime: S, compress: S }),
});

const handler = s({
  type: S,
  retries: S,
  chain: S,
  chainGroup,
  auther: S,
  authers: list(S),
  auth,
  tls,
  limiter: S,
  observer: S,
  metadata: M,
});
const listener = s({
  type: S,
  chain: S,
  chainGroup,
  auther: S,
  authers: list(S),
  auth,
  tls,
  metadata: M,
});
const forwardNode = s({
  name: S,
  addr: S,
  host: S,
  network: S,
  protocol: S,
  path: S,
  bypass: S,
  bypasses: list(S),
  http: httpNode,
  tls: tlsNode,
  auth,
  metadata: M,
});
const service = s({
  name: S,
  addr: S,
  interface: S,
  sockopts: s({ mark: S }),
  admission: S,
  admissions: list(S),
  bypass: S,
  bypasses: list(S),
  resolver: S,
  hosts: S,
  limiter: S,
  climiter: S,
  rlimiter: S,
  logger: S,
  loggers: list(S),
  observer: S,
  recorders: list(s({ name: S, record: S, metadata: M })),
  handler,
  listener,
  forwarder: s({ name: S, selector, nodes: list(forwardNode) }),
  metadata: M,
});
const connector = s({ type: S, auth, tls, metadata: M });
const node = s({
  name: S,
  addr: S,
  host: S,
  network: S,
  protocol: S,
  path: S,
  interface: S,
  sockopts: s({ mark: S }),
  bypass: S,
  bypasses: list(S),
  resolver: S,
  hosts: S,
  connector,
  dialer: connector,
  http: httpNode,
  tls: tlsNode,
  auth,
  metadata: M,
});
const hop = s({
  name: S,
  interface: S,
  sockopts: s({ mark: S }),
  selector,
  bypass: S,
  bypasses: list(S),
  resolver: S,
  hosts: S,
  nodes: list(node),
  ...loaders,
  metadata: M,
});

/** The whole config file. */
export const CONFIG_SHAPE: Section = s({
  services: list(service),
  chains: list(s({ name: S, hops: list(hop), metadata: M })),
  hops: list(hop),
  authers: list(s({ name: S, auths: list(auth), ...loaders })),
  admissions: list(matcherList),
  bypasses: list(matcherList),
  resolvers: list(s({
    name: S,
    nameservers: list(s({
      addr: S,
      chain: S,
      prefer: S,
      clientIP: S,
      hostname: S,
      ttl: S,
      timeout: S,
      async: S,
      only: S,
    })),
    plugin,
  })),
  hosts: list(s({ name: S, mappings: list(s({ ip: S, hostname: S, aliases: list(S) })), ...loaders })),
  ingresses: list(M),
  routers: list(M),
  sds: list(M),
  recorders: list(M),
  limiters: list(limiter),
  climiters: list(limiter),
  rlimiters: list(limiter),
  observers: list(M),
  loggers: list(s({ name: S, log: logConfig })),
  tls,
  log: logConfig,
  profiling: s({ addr: S }),
  api: endpoint,
  metrics: endpoint,
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** The canonical spelling of `key` in `section` (case-insensitive match), or undefined. */
export function canonicalKey(section: Section, key: string): string | undefined {
  if (key in section.fields) return key;
  const lower = key.toLowerCase();
  return Object.keys(section.fields).find((k) => k.toLowerCase() === lower);
}

/**
 * Returns `value` with the keys of known sections spelled and ordered as gost does; unknown
 * keys follow in their original order. Metadata mappings are sorted by key when `sortMaps`
 * (gost's YAML encoder sorts map keys).
 */
export function normalize(
  value: unknown,
  field: Field = CONFIG_SHAPE,
  opts: { sortMaps?: boolean } = {},
): unknown {
  if (field === "scalar") return value;
  if (field === "map") {
    if (!isRecord(value) || !opts.sortMaps) return value;
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  if ("list" in field) {
    const inner = field.list;
    return Array.isArray(value) ? value.map((v) => normalize(v, inner, opts)) : value;
  }
  if (!isRecord(value)) return value;
  const known: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const canon = canonicalKey(field, k);
    if (canon === undefined) unknown[k] = v;
    else if (!(canon in known) || k === canon) known[canon] = normalize(v, field.fields[canon], opts);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(field.fields)) if (k in known && known[k] !== undefined) out[k] = known[k];
  return Object.assign(out, unknown);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? "a list" : isRecord(v) ? "a mapping" : JSON.stringify(v);
}

/**
 * Checks that every known section is a mapping and every known list is a list (scalars are
 * left to the components that read them). Returns `[path, message]` pairs.
 */
export function shapeProblems(value: unknown, field: Field = CONFIG_SHAPE, path = ""): [string, string][] {
  if (value === undefined || value === null || field === "scalar") return [];
  if (field === "map") {
    return isRecord(value)
      ? []
      : [[path, `expected a mapping of option names to values, got ${describe(value)}`]];
  }
  if ("list" in field) {
    if (!Array.isArray(value)) return [[path, `expected a list, got ${describe(value)}`]];
    return value.flatMap((v, i) => shapeProblems(v, field.list, `${path}[${i}]`));
  }
  if (!isRecord(value)) return [[path || "(top level)", `expected a mapping, got ${describe(value)}`]];
  return Object.entries(field.fields).flatMap(([k, f]) =>
    shapeProblems(value[k], f, path ? `${path}.${k}` : k)
  );
}
