/**
 * `-api` and `-metrics` values, and the `GOST_API`/`GOST_METRICS` environment variables, as
 * gost reads them: `[user:pass@]addr[?pathPrefix=…&accesslog=true]` for the API,
 * `[user:pass@]addr[?path=…]` for metrics. The environment gives a bare address and replaces
 * the config file's section; a flag replaces both.
 * @module
 */
import type { Config, EndpointConfig } from "../config/types.ts";

/** Parses a flag value into an `api:`/`metrics:` section. */
export function endpointFromFlag(value: string, kind: "api" | "metrics"): EndpointConfig {
  let rest = value.replace(/^[a-z][a-z0-9+.-]*:\/\/(?!\/)/i, (m) => m.toLowerCase() === "unix://" ? m : "");
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0 && !rest.startsWith("unix://")) [rest, query] = [rest.slice(0, q), rest.slice(q + 1)];
  const out: EndpointConfig = { addr: rest };
  const at = rest.lastIndexOf("@");
  if (at >= 0 && !rest.startsWith("unix://")) {
    const info = rest.slice(0, at);
    out.addr = rest.slice(at + 1);
    const colon = info.indexOf(":");
    const user = decode(colon < 0 ? info : info.slice(0, colon));
    const pass = colon < 0 ? "" : decode(info.slice(colon + 1));
    out.auth = { username: user, password: pass };
  }
  const params = new URLSearchParams(query);
  if (kind === "metrics") {
    const path = params.get("path");
    if (path) out.path = path;
  } else {
    const prefix = params.get("pathPrefix");
    if (prefix) out.pathPrefix = prefix;
    const log = params.get("accesslog");
    if (log && /^(1|t|true)$/i.test(log)) out.accesslog = true;
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no permission to read it
  }
}

/** Applies `GOST_API`/`GOST_METRICS` and then the flags to `config` (gost's order). */
export function applyEndpoints(config: Config, flags: { api?: string; metrics?: string }): void {
  const api = env("GOST_API");
  if (api) config.api = { addr: api };
  const metrics = env("GOST_METRICS");
  if (metrics) config.metrics = { addr: metrics };
  if (flags.api) config.api = endpointFromFlag(flags.api, "api");
  if (flags.metrics) config.metrics = endpointFromFlag(flags.metrics, "metrics");
}
