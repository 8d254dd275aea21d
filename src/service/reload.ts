/**
 * Running services under a config that can change (SIGHUP): a reload keeps every service
 * whose config did not change — with its live connections — replaces the changed ones (new
 * connections get the new config while live ones finish on the old service), stops the
 * removed ones, and leaves everything as it was when the new config cannot be started.
 *
 * Real gost rebuilds every service on reload and drops its users; this does not.
 * @module
 */
import type { Chain } from "../chain/node.ts";
import type { Config } from "../config/types.ts";
import { splitHostPort } from "../core/addr.ts";
import { errorMessage } from "../core/errors.ts";
import type { Level, Logger } from "../core/log.ts";
import { buildRuntime, type Runtime } from "./build.ts";
import type { Service } from "./service.ts";

/**
 * The chains (and hosts mappers) built for one config; closed once no service built with
 * them runs any more.
 */
class Generation {
  users = 0;
  constructor(readonly chains: Map<string, Chain>, readonly closers: readonly (() => void)[] = []) {}

  release(): void {
    if (--this.users === 0) this.#close();
  }

  /** Closes the chains at once when no service took this generation's chains. */
  closeIfUnused(): void {
    if (this.users === 0) this.#close();
  }

  #close(): void {
    for (const c of this.chains.values()) c.close();
    for (const close of this.closers) close();
  }
}

interface Entry {
  service: Service;
  fingerprint: string;
  generation: Generation;
}

/** What a reload did, by service name. */
export interface ReloadSummary {
  kept: string[];
  replaced: string[];
  added: string[];
  removed: string[];
}

/** The new config could not be started; the old one still runs untouched. */
export class ReloadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReloadError";
  }
}

// deno-lint-ignore no-explicit-any
function isRecord(v: unknown): v is Record<string, any> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** JSON with sorted keys, so that two equal configs give equal text. */
function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(",")}]`;
  if (isRecord(v)) {
    return `{${
      Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) =>
        `${JSON.stringify(k)}:${stableJSON(v[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Option keys naming files a component reads at start (certificates, keys, kcp config, loader files). */
const FILE_KEY = /file$|^authorizedkeys$/i;

function fileStamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.size}@${st.mtime?.getTime() ?? 0}`;
  } catch {
    return "missing";
  }
}

/** The name a service gets in build.ts (`service-N` when unnamed). */
export function serviceName(s: unknown, index: number): string {
  return isRecord(s) && typeof s.name === "string" && s.name ? s.name : `service-${index}`;
}

/**
 * One text per service that changes whenever anything that service is built from changes:
 * its own config, every named top-level entry it refers to (chains, hops, bypasses,
 * resolvers, …, followed transitively), and the size and time of the files it reads
 * (`certFile`, `keyFile`, a policy list's `file.path`, …) so that a renewed certificate or an
 * edited auth file counts as a change at SIGHUP.
 */
export function serviceFingerprints(config: Config): Map<string, string> {
  const named = new Map<string, unknown[]>();
  for (const [section, value] of Object.entries(config as Record<string, unknown>)) {
    if (section === "services" || !Array.isArray(value)) continue;
    for (const item of value) {
      if (isRecord(item) && typeof item.name === "string") {
        const list = named.get(item.name) ?? [];
        list.push({ section, item });
        named.set(item.name, list);
      }
    }
  }
  const out = new Map<string, string>();
  const services = Array.isArray(config.services) ? config.services : [];
  services.forEach((svc, i) => {
    const refs: unknown[] = [];
    const files: Record<string, string> = {};
    const seen = new Set<string>();
    const walk = (v: unknown, key: string) => {
      if (typeof v === "string") {
        if (FILE_KEY.test(key) && v) files[v] = fileStamp(v);
        if (!seen.has(v) && named.has(v)) {
          seen.add(v);
          for (const entry of named.get(v)!) {
            refs.push(entry);
            walk(entry, "");
          }
        }
      } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      // A policy or hosts list's `file: {path}` is read at start (and on its reload): its content is
      // part of what the service uses.
      else if (isRecord(v)) {
        for (const [k, x] of Object.entries(v)) walk(x, key === "file" && k === "path" ? "file" : k);
      }
    };
    walk(svc, "");
    out.set(serviceName(svc, i), stableJSON({ svc, refs, files }));
  });
  return out;
}

function portOf(addr: string): number | undefined {
  try {
    const p = splitHostPort(addr).port;
    return p > 0 ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Services under one config at a time; `reload` moves to another without dropping users. */
export class Supervisor {
  readonly #running = new Map<string, Entry>();
  /** Replaced services still finishing their live connections. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #retiringServices = new Set<Service>();
  #config: Config = {};
  #stopped = false;

  /** `announce`: the level of each service's "listening on" line. */
  constructor(readonly log: Logger, readonly announce: Level = "info") {}

  /** Names of the services accepting connections now, in config order. */
  get serviceNames(): string[] {
    return [...this.#running.keys()];
  }

  /** The running service called `name`. */
  service(name: string): Service | undefined {
    return this.#running.get(name)?.service;
  }

  /** Replaced services whose live connections have not finished yet. */
  get retiringCount(): number {
    return this.#retiringServices.size;
  }

  /**
   * Starts every service of a built config; on a failure (a `ListenError`) closes those
   * already started and rethrows.
   */
  async start(config: Config, runtime: Runtime): Promise<void> {
    const generation = new Generation(runtime.chains, runtime.closers);
    const fingerprints = serviceFingerprints(config);
    const started: Service[] = [];
    try {
      for (const svc of runtime.services) {
        await svc.start(this.announce);
        started.push(svc);
      }
    } catch (err) {
      await Promise.all(started.map((s) => s.close()));
      for (const c of runtime.chains.values()) c.close();
      for (const close of runtime.closers) close();
      throw err;
    }
    for (const svc of runtime.services) {
      generation.users++;
      this.#running.set(svc.name, {
        service: svc,
        fingerprint: fingerprints.get(svc.name) ?? "",
        generation,
      });
    }
    generation.closeIfUnused();
    this.#config = config;
  }

  /**
   * Moves to a new config (already validated and built by the caller). Throws
   * {@link ReloadError} when a new service cannot listen; the old services then keep serving
   * as before (a replaced one is rebuilt from the old config if it had handed its port over).
   */
  async reload(config: Config, runtime: Runtime): Promise<ReloadSummary> {
    if (this.#stopped) throw new ReloadError("stopped");
    const fingerprints = serviceFingerprints(config);
    const generation = new Generation(runtime.chains, runtime.closers);
    const summary: ReloadSummary = { kept: [], replaced: [], added: [], removed: [] };
    const fresh: { svc: Service; old?: Entry }[] = [];
    const next = new Set<string>();
    for (const svc of runtime.services) {
      next.add(svc.name);
      const old = this.#running.get(svc.name);
      if (old && old.fingerprint === fingerprints.get(svc.name)) {
        summary.kept.push(svc.name);
        svc.listener.close();
        svc.handler.close?.();
      } else {
        (old ? summary.replaced : summary.added).push(svc.name);
        fresh.push({ svc, old });
      }
    }
    const removed = [...this.#running.values()].filter((e) => !next.has(e.service.name));
    summary.removed = removed.map((e) => e.service.name);
    const retiring = [...fresh.flatMap((f) => f.old ? [f.old] : []), ...removed];
    const heldPorts = new Set(retiring.map((e) => portOf(e.service.listener.addr)).filter((p) => p));
    const configured = new Map<string, string>();
    (Array.isArray(config.services) ? config.services : []).forEach((s, i) => {
      if (isRecord(s) && typeof s.addr === "string") configured.set(serviceName(s, i), s.addr);
    });
    const takesOver = (svc: Service) => heldPorts.has(portOf(configured.get(svc.name) ?? ""));
    const first = fresh.filter((f) => !takesOver(f.svc));
    const second = fresh.filter((f) => takesOver(f.svc));

    const started: Service[] = [];
    const abandon = async (err: unknown) => {
      await Promise.all(started.map((s) => s.close()));
      for (const c of runtime.chains.values()) c.close();
      for (const close of runtime.closers) close();
      return new ReloadError(`the new config cannot start, the running one stays: ${errorMessage(err)}`, {
        cause: err,
      });
    };
    // Services on new ports start while the old ones still serve: a failure there changes nothing.
    try {
      for (const f of first) {
        await f.svc.start(this.announce);
        started.push(f.svc);
      }
    } catch (err) {
      throw await abandon(err);
    }
    // The rest take over ports the retiring services hold: release those, then bind.
    await Promise.all(retiring.map((e) => e.service.stopAccepting()));
    try {
      for (const f of second) {
        await f.svc.start(this.announce);
        started.push(f.svc);
      }
    } catch (err) {
      const error = await abandon(err);
      await this.#restore(retiring);
      throw error;
    }

    for (const e of removed) {
      this.#running.delete(e.service.name);
      e.service.close().finally(() => e.generation.release());
    }
    for (const f of fresh) {
      if (f.old) this.#retire(f.old);
      generation.users++;
      this.#running.set(f.svc.name, {
        service: f.svc,
        fingerprint: fingerprints.get(f.svc.name) ?? "",
        generation,
      });
    }
    // Keep the config's order of services (a kept one may sit after a new one).
    const order = runtime.services.map((s) => s.name);
    const entries = order.map((n) => [n, this.#running.get(n)!] as const);
    this.#running.clear();
    for (const [n, e] of entries) this.#running.set(n, e);
    generation.closeIfUnused();
    this.#config = config;
    this.log.info(
      `reload: ${summary.kept.length} kept, ${summary.replaced.length} replaced, ${summary.added.length} added, ${summary.removed.length} removed`,
      { kept: summary.kept, replaced: summary.replaced, added: summary.added, removed: summary.removed },
    );
    return summary;
  }

  /** Lets a replaced service finish its live connections, then closes it. */
  #retire(e: Entry): void {
    const svc = e.service;
    this.#retiringServices.add(svc);
    if (svc.liveConnections) {
      svc.log.info(`replaced: ${svc.liveConnections} live connection(s) finish on the old config`);
    }
    const done = svc.drained().then(() => svc.close()).finally(() => {
      this.#retiringServices.delete(svc);
      this.#retiring.delete(done);
      e.generation.release();
    });
    this.#retiring.add(done);
  }

  /**
   * After a failed reload, rebuilds the services that had already handed over their ports from
   * the config that is still current, and starts them again; the old objects finish their live
   * connections.
   */
  async #restore(entries: Entry[]): Promise<void> {
    const { runtime } = await buildRuntime(this.#config, this.log);
    if (!runtime) return;
    const wanted = new Set(entries.map((e) => e.service.name));
    const generation = new Generation(runtime.chains, runtime.closers);
    for (const svc of runtime.services) {
      const old = this.#running.get(svc.name);
      if (!wanted.has(svc.name) || !old) {
        svc.listener.close();
        svc.handler.close?.();
        continue;
      }
      try {
        await svc.start(this.announce);
      } catch (err) {
        this.log.error(`reload: could not restart ${svc.name} on the old config: ${errorMessage(err)}`);
        continue;
      }
      this.#retire(old);
      generation.users++;
      this.#running.set(svc.name, { service: svc, fingerprint: old.fingerprint, generation });
    }
    generation.closeIfUnused();
  }

  /** Closes every service (live connections too, replaced ones still finishing included). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all([
      ...all.map((e) => e.service.close().finally(() => e.generation.release())),
      ...[...this.#retiringServices].map((s) => s.close()),
    ]);
    await Promise.allSettled([...this.#retiring]);
  }
}
