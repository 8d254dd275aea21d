/**
 * The `api:` and `metrics:` endpoints of a running program: validated with the config, started
 * once the services run, stopped with them. A SIGHUP keeps them as they are (a changed section
 * takes effect at restart).
 * @module
 */
import type { Config } from "../config/types.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { HttpEndpoint } from "../core/http_endpoint.ts";
import type { Logger } from "../core/log.ts";
import { enableMetrics } from "../metrics/gost.ts";
import { type Endpoint, parseEndpoint, startMetricsService } from "../metrics/service.ts";
import { type ApiHost, startApiService } from "./api.ts";
import { checkEndpointAuther, endpointAuther } from "./endpoint_auth.ts";

/** The parsed `api:` and `metrics:` sections, and their config errors. */
export function parseEndpoints(
  config: Config,
): { api?: Endpoint; metrics?: Endpoint; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const one = (section: "api" | "metrics") => {
    try {
      const ep = parseEndpoint(config[section], section);
      const missing = ep && checkEndpointAuther(ep, section, config);
      if (missing) errors.push(missing);
      return ep;
    } catch (err) {
      errors.push(err instanceof ConfigError ? err : new ConfigError(section, errorMessage(err)));
    }
  };
  return { api: one("api"), metrics: one("metrics"), errors };
}

/**
 * With metrics or the API on, one thread serves everything: counts and per-service status are
 * then those of every connection (worker threads would each count their own). `auto` simply
 * stays one thread; a number asked for is said to be overridden.
 */
export function oneThreadWhenObserved(config: Config, warn: (w: string) => void): Config {
  if (!config.api && !config.metrics && !running) return config;
  const w = config.workers;
  if (
    w !== undefined && w !== null && w !== "" && String(w).trim().toLowerCase() !== "auto" && Number(w) !== 1
  ) {
    warn(`workers: ${w} ignored: with api or metrics on, gost-deno serves on one thread (whole counts)`);
  }
  return { ...config, workers: 1 };
}

/** Enables counting before any service starts, so `gost_services` sees them all. */
export function prepareMetrics(config: Config): void {
  if (config.metrics) enableMetrics();
}

/** Endpoints run in this process (they stay for its life: a reload keeps them). */
let running = false;

/** Says that a reload's `api:`/`metrics:` differ from the running ones, which stay until restart. */
export function warnEndpointChange(running: Config, next: Config, warn: (w: string) => void): void {
  const text = (c: Config) => JSON.stringify([c.api ?? null, c.metrics ?? null]);
  if (text(running) !== text(next)) warn("reload: api and metrics settings take effect at restart");
}

/** Starts the endpoints (throws `ListenError`, after closing any it started). */
export function startEndpoints(config: Config, host: ApiHost, log: Logger): HttpEndpoint[] {
  const { api, metrics } = parseEndpoints(config);
  const started: HttpEndpoint[] = [];
  try {
    const auther = (ep: Endpoint, section: "api" | "metrics") =>
      endpointAuther(ep, section, () => host.config(), log.with({ kind: "service", service: `@${section}` }));
    if (api) started.push(startApiService(api, host, log, auther(api, "api")));
    if (metrics) started.push(startMetricsService(metrics, enableMetrics(), log, auther(metrics, "metrics")));
  } catch (err) {
    for (const e of started) e.close();
    throw err;
  }
  running = started.length > 0;
  return started;
}
