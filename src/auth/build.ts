/**
 * `authers:` section → named authers, and the `auther`/`authers` references of handlers and
 * listeners → one {@link Auther} (a component naming none uses its single `auth`, as gost).
 * @module
 */
import type { Auther } from "../core/auth.ts";
import { ConfigError } from "../core/errors.ts";
import { FileWatch, parseListSource, readListFileSync, splitLines } from "../core/list_source.ts";
import type { Logger } from "../core/log.ts";
import { lookupRefs } from "../core/pattern_list.ts";
import { AutherGroup, parseAuthLines, StoreAuther } from "./auther.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

/** Handlers that check client credentials (and so take `handler.auther`/`authers`). */
const AUTH_HANDLERS = new Set(["http", "http2", "socks5", "socks", "socks4", "socks4a", "relay", "auto"]);
/** Listeners that check client credentials (`listener.auther`/`authers`). */
const AUTH_LISTENERS = new Set(["sshd"]);

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function inlineUsers(cfg: Rec, path: string, errors: ConfigError[]): Map<string, string> {
  const users = new Map<string, string>();
  if (cfg.auths === undefined || cfg.auths === null) return users;
  if (!Array.isArray(cfg.auths)) {
    errors.push(new ConfigError(`${path}.auths`, "expected a list of {username, password}"));
    return users;
  }
  cfg.auths.forEach((a, i) => {
    if (!isRecord(a)) {
      return errors.push(new ConfigError(`${path}.auths[${i}]`, "expected {username, password}"));
    }
    // gost skips an entry without a user name.
    if (a.username === undefined || a.username === null || a.username === "") return;
    users.set(String(a.username), a.password === undefined || a.password === null ? "" : String(a.password));
  });
  return users;
}

/** Builds every `authers:` entry; file watches are pushed to `closers`. */
export function buildAuthers(
  section: unknown,
  errors: ConfigError[],
  log: Logger,
  closers: (() => void)[],
): Map<string, StoreAuther> {
  const out = new Map<string, StoreAuther>();
  if (section === undefined || section === null) return out;
  if (!Array.isArray(section)) {
    errors.push(new ConfigError("authers", "expected a list of authers with name and auths or file"));
    return out;
  }
  section.forEach((cfg, i) => {
    const path = `authers[${i}]`;
    if (!isRecord(cfg)) {
      return errors.push(new ConfigError(path, "expected a mapping with name and auths or file"));
    }
    if (typeof cfg.name !== "string" || !cfg.name) {
      return errors.push(new ConfigError(`${path}.name`, "needs a name"));
    }
    if (out.has(cfg.name)) {
      errors.push(new ConfigError(`${path}.name`, `duplicate name ${JSON.stringify(cfg.name)}`));
    }
    const inline = inlineUsers(cfg, path, errors);
    const source = parseListSource(cfg, path, errors);
    const users = new Map(inline);
    const text = source.file ? readListFileSync(source.file, path, errors) : undefined;
    if (text !== undefined) { for (const [u, p] of parseAuthLines(splitLines(text))) users.set(u, p); }
    const alog = log.with({ kind: "auther", auther: cfg.name });
    const open = [...users].filter(([, p]) => p === "").map(([u]) => u);
    if (open.length) {
      alog.warn(`users without a password accept any password (as in gost): ${open.join(", ")}`);
    }
    const auther = new StoreAuther(cfg.name, users);
    out.set(cfg.name, auther);
    if (source.file && text !== undefined && source.reloadMs > 0) {
      const watch = new FileWatch(source.file, source.reloadMs, text, (lines) => {
        const next = new Map(inline);
        for (const [u, p] of parseAuthLines(lines)) next.set(u, p);
        auther.replace(next);
      }, alog);
      closers.push(() => watch.close());
    }
  });
  return out;
}

/**
 * The auther named by a handler or listener config (`obj.auther` and `obj.authers`), or
 * undefined when it names none (the component then falls back to its single `auth`).
 */
export function autherAt(
  obj: Rec | undefined,
  path: string,
  defined: Map<string, Auther>,
  errors: ConfigError[],
): Auther | undefined {
  if (!isRecord(obj)) return undefined;
  const list = lookupRefs(obj.auther, obj.authers, path, ["auther", "authers"], defined, "auther", errors);
  if (list.length === 0) return undefined;
  return list.length === 1 ? list[0] : new AutherGroup(list);
}

/**
 * The authers a service names for its handler and its listener. Naming one where the component
 * checks no credentials is a config error: the auther would restrict nothing.
 */
export function authersOf(
  svc: Rec,
  path: string,
  htype: string,
  ltype: string,
  defined: Map<string, Auther>,
  errors: ConfigError[],
): { handler?: Auther; listener?: Auther } {
  const handler = autherAt(svc.handler, `${path}.handler`, defined, errors);
  if (handler && !AUTH_HANDLERS.has(htype)) {
    errors.push(
      new ConfigError(
        `${path}.handler.auther`,
        `the ${htype} handler does not check user names and passwords, so it cannot enforce an auther (handlers that do: ${
          [...AUTH_HANDLERS].join(", ")
        })`,
      ),
    );
  }
  const listener = autherAt(svc.listener, `${path}.listener`, defined, errors);
  if (listener && !AUTH_LISTENERS.has(ltype)) {
    errors.push(
      new ConfigError(
        `${path}.listener.auther`,
        `the ${ltype} listener does not authenticate clients, so it cannot enforce an auther (listeners that do: ${
          [...AUTH_LISTENERS].join(", ")
        }; use handler.auther)`,
      ),
    );
  }
  return { handler, listener };
}
