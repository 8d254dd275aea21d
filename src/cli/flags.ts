/**
 * gost's flags, parsed the way Go's `flag` package does: `-L x`, `-L=x`, `--L x` and
 * `--L=x` are the same; boolean flags take no separate value (`-D`, `-D=false`); `--`
 * ends the flags. Unlike Go, a stray positional argument is an error rather than ignored.
 * @module
 */

/** What the flags ask for. */
export interface Flags {
  /** `-L`: services, in order. */
  services: string[];
  /** `-F`: chain nodes, one hop each, in order. */
  nodes: string[];
  /** `-C`: config files (`-` = standard input), in order. */
  configs: string[];
  /** `-O`: print the config in this format and exit. */
  output?: "yaml" | "json";
  /** 0 = from the config, 1 = `-D` (debug), 2 = `-DD` (trace). */
  debug: number;
  /** `-V`. */
  version: boolean;
  /** `-h` / `-help`. */
  help: boolean;
  /** `-api`, `-metrics`: the Web API and Prometheus endpoints (cli/endpoint.ts); `-R`: not served yet. */
  api?: string;
  metrics?: string;
  reload?: string;
  /** `-workers`: threads accepting connections, a gost-deno extension (validated with the config). */
  workers?: string;
  /** Arguments after a `--` separator (gost runs each group as a child process). */
  groups: string[][];
}

/** A usage mistake: the message names the flag or argument. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Kind = "list" | "string" | "bool";
const FLAGS: Record<string, Kind> = {
  L: "list",
  F: "list",
  C: "list",
  O: "string",
  D: "bool",
  DD: "bool",
  V: "bool",
  h: "bool",
  help: "bool",
  api: "string",
  metrics: "string",
  R: "string",
  workers: "string",
};

/** Usage text printed for `-h` and after a usage mistake. */
export const USAGE = `Usage: gost [flags]

  -L value     service, repeatable: [handler[+listener]]://[user:pass@]host:port[/target,...][?key=value&...]
               e.g. -L http://:8080  -L relay+tls://user:pass@:8443  -L tcp://:2222/10.0.0.2:22
  -F value     chain node, repeatable (each -F is one hop of chain-0):
               [connector[+dialer]]://[user:pass@]host:port[?key=value&...]  e.g. -F socks5://10.0.0.1:1080
  -C file      config file (YAML or JSON), repeatable; "-" reads standard input
  -O format    print the resulting config as yaml or json and exit (nothing is started)
  -D           debug logging
  -DD          trace logging
  -workers n   threads accepting connections on shared ports: a number, or auto (one per CPU,
               the default); a gost-deno extension, also the top-level config key "workers"
  -api value   Web API: [user:pass@]addr[?pathPrefix=/p&accesslog=true] (an empty host is 127.0.0.1)
  -metrics value
               Prometheus metrics: [user:pass@]addr[?path=/metrics] (an empty host is 127.0.0.1)
  -V           print the version and exit
  -h, -help    print this help and exit

Not supported yet (accepted with a warning): -R period.`;

const BOOL_VALUES: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

/** Parses argv. Throws {@link UsageError} for an unknown flag, a missing or bad value, or a stray argument. */
export function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    services: [],
    nodes: [],
    configs: [],
    debug: 0,
    version: false,
    help: false,
    groups: [],
  };
  let i = 0;
  let separated = false;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      separated = true;
      i++;
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(arg)} (flags start with "-", e.g. -L ${arg})`,
      );
    }
    let body = arg.slice(arg[1] === "-" ? 2 : 1);
    if (body === "" || body[0] === "-" || body[0] === "=") throw new UsageError(`bad flag syntax: ${arg}`);
    let value: string | undefined;
    const eq = body.indexOf("=");
    if (eq >= 0) {
      value = body.slice(eq + 1);
      body = body.slice(0, eq);
    }
    const kind = FLAGS[body];
    if (!kind) throw new UsageError(`flag provided but not defined: -${body}`);
    if (kind === "bool") {
      let on = true;
      if (value !== undefined) {
        if (!(value in BOOL_VALUES)) {
          throw new UsageError(`invalid boolean value ${JSON.stringify(value)} for -${body}`);
        }
        on = BOOL_VALUES[value];
      }
      if (body === "D" && on) flags.debug = Math.max(flags.debug, 1);
      else if (body === "DD" && on) flags.debug = 2;
      else if (body === "V") flags.version = on;
      else flags.help = on;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${body}`);
      value = argv[++i];
    }
    switch (body) {
      case "L":
        flags.services.push(value);
        break;
      case "F":
        flags.nodes.push(value);
        break;
      case "C":
        flags.configs.push(value);
        break;
      case "O":
        if (value !== "yaml" && value !== "json") {
          throw new UsageError(`invalid value ${JSON.stringify(value)} for -O (allowed: yaml, json)`);
        }
        flags.output = value;
        break;
      case "api":
        flags.api = value;
        break;
      case "metrics":
        flags.metrics = value;
        break;
      case "R":
        flags.reload = value;
        break;
      case "workers":
        flags.workers = value;
        break;
    }
  }
  // gost splits its arguments at each "--" and runs every group as a separate process.
  if (separated) {
    let group: string[] = [];
    for (; i < argv.length; i++) {
      if (argv[i] === "--") {
        flags.groups.push(group);
        group = [];
      } else group.push(argv[i]);
    }
    flags.groups.push(group);
  }
  return flags;
}
