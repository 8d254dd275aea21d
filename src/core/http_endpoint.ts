/**
 * The small HTTP servers beside the services (`api:` and `metrics:`, gost's "@api" and
 * "@metrics"): one Deno.serve each, Basic auth compared in constant time, and an address whose
 * host is empty bound to loopback only — unlike gost, which binds every interface: these
 * endpoints show (the API even changes) the whole config, so exposing them must be asked for.
 * @module
 */
import { isIPv4, joinHostPort, splitHostPort, unmapHost } from "./addr.ts";
import { type Auther, parseBasicCredentials } from "./auth.ts";
import { ConfigError, errorMessage } from "./errors.ts";
import type { Logger } from "./log.ts";
import { ListenError } from "./types.ts";

/** Where an endpoint listens: a TCP host and port, or a Unix socket path (`unix:///path`). */
export type EndpointAddr = { hostname: string; port: number } | { path: string };

/**
 * Parses an endpoint's `addr` (`:9000`, `0.0.0.0:9000`, `[::1]:9000`, `unix:///run/gost.sock`);
 * an empty host means 127.0.0.1. Throws a ConfigError naming `path`.
 */
export function parseEndpointAddr(addr: unknown, path: string): EndpointAddr {
  if (typeof addr !== "string" || !addr) throw new ConfigError(path, `missing address (e.g. ":9000")`);
  if (addr.startsWith("unix://")) return { path: addr.slice("unix://".length) };
  try {
    const { host, port } = splitHostPort(addr);
    return { hostname: host === "" ? "127.0.0.1" : host, port };
  } catch (err) {
    throw new ConfigError(path, errorMessage(err));
  }
}

/** True for an address only this machine can reach. */
export function isLoopback(a: EndpointAddr): boolean {
  if ("path" in a) return true;
  const h = unmapHost(a.hostname.replace(/^\[|\]$/g, ""));
  return h === "localhost" || h === "::1" || (isIPv4(h) && h.startsWith("127."));
}

/** An endpoint's credentials check; `close` ends what it holds (file watches) with the endpoint. */
export type EndpointAuther = Auther & { close?(): void };

/** What an endpoint serves and who may use it. */
export interface EndpointOptions {
  /** gost's service name in log lines: "@api" or "@metrics". */
  name: string;
  addr: EndpointAddr;
  /** Who may use it (Basic auth); none: anyone. */
  auther?: EndpointAuther;
  log: Logger;
  handler: (req: Request, info: { client: string }) => Response | Promise<Response>;
  /** Whether a request needs the credentials (default: every one). */
  needsAuth?: (req: Request, url: URL) => boolean;
  /** Called with every answer, refusals included (an access log). */
  answered?: (req: Request, res: Response, client: string, ms: number) => void;
  /** The answer to a request without the right credentials. */
  unauthorized: () => Response;
}

/** One running endpoint. */
export class HttpEndpoint {
  readonly #server: Deno.HttpServer;
  readonly #auther?: EndpointAuther;
  /** `host:port` (or the socket path) it listens on. */
  readonly addr: string;

  private constructor(server: Deno.HttpServer, addr: string, auther?: EndpointAuther) {
    this.#server = server;
    this.addr = addr;
    this.#auther = auther;
  }

  /** Binds and serves; throws `ListenError` when the address cannot be bound. */
  static start(o: EndpointOptions): HttpEndpoint {
    const auth = o.auther;
    const log = o.log.with({ kind: "service", service: o.name });
    if (!auth && !isLoopback(o.addr)) {
      log.warn(`${o.name} listens beyond this machine without auth: anyone who reaches it can use it`);
    }
    const handler = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
      const started = performance.now();
      const client = info.remoteAddr.transport === "tcp" ? unmapHost(info.remoteAddr.hostname) : "";
      const res = auth && (!o.needsAuth || o.needsAuth(req, new URL(req.url))) && !authorized(req, auth)
        ? o.unauthorized()
        : await o.handler(req, { client });
      o.answered?.(req, res, client, performance.now() - started);
      return res;
    };
    const shown = "path" in o.addr ? o.addr.path : joinHostPort(o.addr.hostname, o.addr.port);
    let server: Deno.HttpServer;
    try {
      const where = "path" in o.addr
        ? { path: o.addr.path }
        : { hostname: o.addr.hostname, port: o.addr.port };
      server = Deno.serve({ ...where, onListen: () => {}, onError: (e) => onError(log, e) }, handler);
    } catch (err) {
      auth?.close?.();
      throw new ListenError(shown, err);
    }
    const a = server.addr;
    const addr = a.transport === "tcp" ? joinHostPort(a.hostname, a.port) : shown;
    log.info(`listening on ${addr}`);
    return new HttpEndpoint(server, addr, auth);
  }

  /** Stops listening and ends open requests. */
  async close(): Promise<void> {
    this.#auther?.close?.();
    await this.#server.shutdown();
  }
}

function authorized(req: Request, auth: Auther): boolean {
  const creds = parseBasicCredentials(req.headers.get("authorization") ?? "");
  // A missing header is checked too, so that its answer takes as long as a wrong one.
  return auth.check(creds?.username ?? "", creds?.password ?? "\u0000") && !!creds;
}

function onError(log: Logger, err: unknown): Response {
  log.error(`request: ${errorMessage(err)}`);
  return new Response("internal error\n", { status: 500 });
}
