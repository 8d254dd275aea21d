/**
 * gost's Web API ("@api"): the running config as JSON or YAML with each service's status, and
 * create/update/delete by name for services, chains, hops, authers, admissions, bypasses,
 * resolvers, hosts and limiters. Every change builds a whole new config, validates it as a
 * config file is validated, and applies it with the reload machinery (unchanged services keep
 * their connections, changed ones drain); a change that does not validate or start is refused
 * and nothing of it is applied.
 * @module
 */
import type { Config } from "../config/types.ts";
import { configToText } from "../config/output.ts";
import { errorMessage } from "../core/errors.ts";
import { type EndpointAuther, HttpEndpoint } from "../core/http_endpoint.ts";
import { LogDuration, type Logger } from "../core/log.ts";
import type { Endpoint } from "../metrics/service.ts";
import { serviceName } from "../service/reload.ts";
import type { Service } from "../service/service.ts";
import { swaggerYaml } from "./swagger.ts";
import {
  ApiError,
  CODE,
  createEntry,
  deleteEntry,
  getEntry,
  listEntries,
  parseBody,
  SECTIONS,
  updateEntry,
} from "./config_ops.ts";

/** What the API needs from the program. */
export interface ApiHost {
  /** The config running now, as loaded (before any internal rewriting). */
  config(): Config;
  /** Validates and applies `next`; resolves with an error message when it was refused. */
  apply(next: Config): Promise<string | undefined>;
  /** Re-reads the config sources, as SIGHUP does; an error message when refused. */
  reload(): Promise<string | undefined>;
  /** The running service called `name`. */
  service(name: string): Service | undefined;
}

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function apiError(e: ApiError): Response {
  return json({ code: e.code, msg: e.message }, e.status);
}

/** gost's service status: state, events, stats. */
function statusOf(svc: Service) {
  return {
    createTime: svc.createTime,
    state: svc.state,
    ...(svc.events.length ? { events: svc.events } : {}),
    stats: {
      totalConns: svc.stats.totalConns,
      currentConns: svc.liveConnections,
      totalErrs: svc.stats.totalErrs,
      inputBytes: svc.stats.inputBytes,
      outputBytes: svc.stats.outputBytes,
    },
  };
}

/** The running config with a `status` in each running service (`GET /config`). */
export function configWithStatus(host: ApiHost): Config {
  const cfg = host.config();
  const services = (cfg.services ?? []).map((s, i) => {
    const svc = host.service(serviceName(s, i));
    return svc ? { ...s, status: statusOf(svc) } : s;
  });
  return services.length ? { ...cfg, services } : cfg;
}

/** Starts the API endpoint (throws `ListenError`); `auther` checks the credentials. */
export function startApiService(
  ep: Endpoint,
  host: ApiHost,
  log: Logger,
  auther?: EndpointAuther,
): HttpEndpoint {
  const alog = log.with({ kind: "api" });
  return HttpEndpoint.start({
    name: "@api",
    addr: ep.addr,
    auther,
    log,
    // As gost: the documentation and CORS preflights are open, the rest needs the credentials.
    needsAuth: (req, url) => req.method !== "OPTIONS" && !url.pathname.startsWith(`${ep.pathPrefix}/docs/`),
    unauthorized: () =>
      json({ code: 401, msg: "Unauthorized" }, 401, { "www-authenticate": "Basic", ...CORS_HEADERS }),
    handler: (req) => answer(req, ep, host, !!auther),
    answered: (req, res, client, ms) => {
      if (!ep.accesslog) return;
      // gost's access line: status, duration, client, method, URI.
      const u = new URL(req.url);
      const uri = u.pathname + u.search;
      const duration = new LogDuration(ms);
      alog.info(`| ${res.status} | ${duration} | ${client} | ${req.method} ${uri}`, {
        method: req.method,
        uri,
        code: res.status,
        client,
        duration,
      });
    },
  });
}

/** gost allows every origin (a web UI such as gost-ui calls the API from a browser). */
const CORS_HEADERS = { "access-control-allow-origin": "*" };

async function answer(req: Request, ep: Endpoint, host: ApiHost, guarded: boolean): Promise<Response> {
  if (req.method === "OPTIONS") {
    return new Response(null, {
      status: 204,
      headers: {
        ...CORS_HEADERS,
        "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
        "access-control-allow-headers": req.headers.get("access-control-request-headers") ?? "*",
        ...(guarded ? { "access-control-allow-private-network": "true" } : {}),
      },
    });
  }
  // Without credentials, any web page the user visits could reconfigure this gost through the
  // browser (a cross-site POST needs no preflight): browser requests then need auth.
  const path = new URL(req.url).pathname;
  if (!guarded && req.headers.has("origin") && !path.startsWith(`${ep.pathPrefix}/docs/`)) {
    return json(
      { code: 403, msg: "requests from web pages need the API's auth (set api.auth)" },
      403,
      CORS_HEADERS,
    );
  }
  const res = await route(req, ep.pathPrefix, host).catch((err) =>
    err instanceof ApiError ? apiError(err) : json({ code: 500, msg: errorMessage(err) }, 500)
  );
  res.headers.set("access-control-allow-origin", "*");
  return res;
}

/**
 * The lock every change (and SIGHUP's reload) takes: one at a time, each on the config the
 * last one left.
 */
let queue: Promise<unknown> = Promise.resolve();
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

async function route(req: Request, prefix: string, host: ApiHost): Promise<Response> {
  const url = new URL(req.url);
  let path = url.pathname;
  if (prefix) {
    if (path !== prefix && !path.startsWith(prefix + "/")) return notFound();
    path = path.slice(prefix.length) || "/";
  }
  if (path === "/docs/swagger.yaml" && req.method === "GET") {
    return new Response(await swaggerYaml(), { headers: { "content-type": "text/yaml" } });
  }
  let parts: string[];
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new ApiError(400, CODE.INVALID, `malformed path ${path}`);
  }
  if (parts[0] !== "config" || parts.length > 3) return notFound();
  if (parts.length === 1) {
    if (req.method === "GET") {
      const format = url.searchParams.get("format") === "yaml" ? "yaml" : "json";
      const text = await configToText(configWithStatus(host), format);
      return new Response(text, {
        headers: { "content-type": format === "yaml" ? "text/x-yaml" : "application/json" },
      });
    }
    if (req.method === "POST") {
      // The binary may write only its log directory; saving over the loaded file is refused.
      throw new ApiError(
        500,
        CODE.SAVE,
        "save config failed: gost-deno may write only /var/log/gost; fetch GET /config?format=yaml and save it yourself",
      );
    }
    return notAllowed();
  }
  if (parts[1] === "reload" && parts.length === 2 && req.method === "POST") {
    const err = await exclusive(() => host.reload());
    if (err) throw new ApiError(500, CODE.FAILED, `reload failed: ${err}`);
    return json({ msg: "OK" });
  }
  const section = parts[1];
  const kind = SECTIONS[section];
  if (!kind) return notFound();
  const name = parts[2];
  if (req.method === "GET") {
    const cfg = configWithStatus(host);
    const data = name === undefined ? listEntries(cfg, section) : getEntry(cfg, section, name);
    return json(data === undefined ? {} : { data });
  }
  if (req.method === "POST" && name === undefined) {
    const body = parseBody(await req.text(), kind);
    return await exclusive(async () => {
      const { config, name } = createEntry(host.config(), section, body);
      await applyOrRefuse(host, config, `create ${kind} ${name} failed`);
      return json({ msg: "OK" });
    });
  }
  if (req.method === "PUT" && name !== undefined) {
    const body = parseBody(await req.text(), kind);
    return await exclusive(async () => {
      const config = updateEntry(host.config(), section, name, body);
      await applyOrRefuse(host, config, `create ${kind} ${name.trim()} failed`);
      return json({ msg: "OK" });
    });
  }
  if (req.method === "DELETE" && name !== undefined) {
    return await exclusive(async () => {
      const config = deleteEntry(host.config(), section, name);
      await applyOrRefuse(host, config, `delete ${kind} ${name.trim()} failed`);
      return json({ msg: "OK" });
    });
  }
  return notAllowed();
}

async function applyOrRefuse(host: ApiHost, config: Config, what: string): Promise<void> {
  const err = await host.apply(config);
  // A refused change is the client's to fix (gost answers 500; the config error says why).
  if (err !== undefined) throw new ApiError(400, CODE.FAILED, `${what}: ${err}`);
}

function notFound(): Response {
  return json({ code: 404, msg: "404 page not found" }, 404);
}

function notAllowed(): Response {
  return json({ code: 405, msg: "method not allowed" }, 405);
}
