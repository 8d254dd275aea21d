/**
 * gost's "@metrics" service: the Prometheus text of {@link GostMetrics} at `path` (default
 * `/metrics`), behind Basic auth when `auth` or `auther` is set (401 otherwise, as gost answers).
 * @module
 */
import type { EndpointConfig } from "../config/types.ts";
import { ConfigError } from "../core/errors.ts";
import {
  type EndpointAddr,
  type EndpointAuther,
  HttpEndpoint,
  parseEndpointAddr,
} from "../core/http_endpoint.ts";
import type { Logger } from "../core/log.ts";
import type { GostMetrics } from "./gost.ts";

/** gost's default path. */
export const DEFAULT_PATH = "/metrics";

/** A validated `metrics:` (or `api:`) section. */
export interface Endpoint {
  addr: EndpointAddr;
  path: string;
  pathPrefix: string;
  accesslog: boolean;
  auth?: { username?: string; password?: string };
  /** A named auther (of `authers:`). */
  auther?: string;
}

/**
 * Checks an `api:`/`metrics:` section (`section` names it in errors); whether a named `auther`
 * exists is checked against the whole config (src/api/endpoint_auth.ts).
 */
export function parseEndpoint(cfg: EndpointConfig | undefined, section: string): Endpoint | undefined {
  if (cfg === undefined || cfg === null) return undefined;
  if (typeof cfg !== "object") throw new ConfigError(section, "expected a mapping with addr");
  const c = cfg as Omit<EndpointConfig, "accesslog" | "auther"> & { accesslog?: unknown; auther?: unknown };
  if (c.auther !== undefined && c.auther !== null && typeof c.auther !== "string") {
    throw new ConfigError(`${section}.auther`, "expected the name of an auther");
  }
  const auther = typeof c.auther === "string" && c.auther.trim() ? c.auther.trim() : undefined;
  const path = c.path ? String(c.path) : DEFAULT_PATH;
  if (!path.startsWith("/")) throw new ConfigError(`${section}.path`, `expected a path starting with "/"`);
  const prefix = c.pathPrefix ? String(c.pathPrefix).replace(/\/+$/, "") : "";
  if (prefix && !prefix.startsWith("/")) {
    throw new ConfigError(`${section}.pathPrefix`, `expected a path starting with "/"`);
  }
  return {
    addr: parseEndpointAddr(c.addr, `${section}.addr`),
    path,
    pathPrefix: prefix,
    accesslog: c.accesslog === true || c.accesslog === "true",
    auth: c.auth ?? undefined,
    ...(auther ? { auther } : {}),
  };
}

/** Starts the metrics endpoint (throws `ListenError`); `auther` checks the credentials. */
export function startMetricsService(
  ep: Endpoint,
  metrics: GostMetrics,
  log: Logger,
  auther?: EndpointAuther,
): HttpEndpoint {
  return HttpEndpoint.start({
    name: "@metrics",
    addr: ep.addr,
    auther,
    log,
    unauthorized: () => new Response(null, { status: 401, headers: { "www-authenticate": "Basic" } }),
    handler: async (req) => {
      if (new URL(req.url).pathname !== ep.path) return new Response("404 page not found\n", { status: 404 });
      if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405 });
      return new Response(await metrics.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    },
  });
}
