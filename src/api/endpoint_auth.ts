/**
 * Who may use the `api:` and `metrics:` endpoints, as gost decides it (go-gost/gost
 * cmd/gost/config.go, buildAPIService/buildMetricsService): the API accepts the credentials of
 * its `auth` or of its named `auther` (either one); metrics use the named `auther` instead of
 * `auth` when one is named. A named auther is looked up in the running config at each request,
 * as gost's registry does, so an auther changed through the API or by SIGHUP applies at once.
 * @module
 */
import { buildAuthers } from "../auth/build.ts";
import type { StoreAuther } from "../auth/auther.ts";
import { AutherGroup } from "../auth/auther.ts";
import type { Config } from "../config/types.ts";
import { Authenticator, type Auther } from "../core/auth.ts";
import { ConfigError } from "../core/errors.ts";
import type { EndpointAuther } from "../core/http_endpoint.ts";
import { Logger } from "../core/log.ts";
import type { Endpoint } from "../metrics/service.ts";

/** The `authers:` names of `config`. */
function autherNames(config: Config): Set<string> {
  const list = (config as { authers?: unknown }).authers;
  const names = new Set<string>();
  if (Array.isArray(list)) {
    for (const a of list) if (a && typeof a === "object" && typeof a.name === "string") names.add(a.name);
  }
  return names;
}

/**
 * A config error when `ep` names an auther that `config` does not define. gost would admit
 * everyone then (its registry answers an unknown name with "authenticated"); an endpoint that
 * its owner believes protected must not run open, nor may an API change delete the auther in use.
 */
export function checkEndpointAuther(ep: Endpoint, section: string, config: Config): ConfigError | undefined {
  if (ep.auther === undefined || autherNames(config).has(ep.auther)) return undefined;
  return new ConfigError(
    `${section}.auther`,
    `no auther named ${JSON.stringify(ep.auther)} in authers (it would protect nothing)`,
  );
}

/** The credentials check of an endpoint, or undefined when it is open. */
export function endpointAuther(
  ep: Endpoint,
  section: "api" | "metrics",
  config: () => Config,
  log: Logger,
): EndpointAuther | undefined {
  const auth = Authenticator.from(ep.auth);
  if (ep.auther === undefined) return auth;
  const named = new LiveAuther(ep.auther, `${section}.auther`, config, log);
  if (section === "metrics" || !auth) return named;
  const group: EndpointAuther = new AutherGroup([auth, named]);
  group.close = () => named.close();
  return group;
}

/** Builds the authers again (file watches included) whenever the running config is another object. */
class LiveAuther implements Auther {
  #config?: Config;
  #auther?: StoreAuther;
  #closers: (() => void)[] = [];
  #warned = false;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly config: () => Config,
    readonly log: Logger,
  ) {}

  check(username: string, password: string): boolean {
    const cfg = this.config();
    if (cfg !== this.#config) this.#rebuild(cfg);
    if (this.#auther) return this.#auther.check(username, password);
    if (!this.#warned) {
      this.#warned = true;
      this.log.warn(`${this.path}: auther ${this.name} is no longer in the config; its users are refused`);
    }
    return false;
  }

  #rebuild(cfg: Config): void {
    this.close();
    this.#config = cfg;
    // The services' build of the same section already logged its warnings and errors.
    const silent = new Logger({ level: "fatal", format: "json", sink: () => {} });
    this.#auther = buildAuthers(cfg.authers, [], silent, this.#closers).get(this.name);
    if (this.#auther) this.#warned = false;
  }

  close(): void {
    for (const c of this.#closers.splice(0)) c();
  }
}
