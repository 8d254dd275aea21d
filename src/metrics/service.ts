/**
 * gost's "@metrics" service: the Prometheus text of {@link GostMetrics} at `path` (default
 * `/metrics`), behind Basic auth when `auth` is set (401 otherwise, as gost answers).
 * @module
 */
import type { EndpointConfig } from "../config/types.ts";
import { ConfigError } from "../core/errors.ts";
import { type EndpointAddr, HttpEndpoint, parseEndpointAddr } from "../core/http_endpoint.ts";
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
}

/**
 * Checks an `api:`/`metrics:` section (`section` names it in errors). `auther` (a named auther)
 * is refused: authers are not enforced yet, and an endpoint believed protected must not run open.
 */
export function parseEndpoint(cfg: EndpointConfig | undefined, section: string): Endpoint | undefined {
  if (cfg === undefined || cfg === null) return undefined;
  if (typeof cfg !== "object") throw new ConfigError(section, "expected a mapping with addr");
  const c = cfg as Omit<EndpointConfig, "accesslog"> & { accesslog?: unknown };
  if (c.auther !== undefined && c.auther !== "") {
    throw new ConfigError(
      `${section}.auther`,
      "named authers are not enforced yet; refusing to start rather than serve this endpoint without auth (use auth: username/password)",
    );
  }
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
  };
}

/** Starts the metrics endpoint (throws `ListenError`). */
export function startMetricsService(ep: Endpoint, metrics: GostMetrics, log: Logger): HttpEndpoint {
  return HttpEndpoint.start({
    name: "@metrics",
    addr: ep.addr,
    auth: ep.auth,
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
