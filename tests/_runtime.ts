/**
 * In-process services for tests: build a gost-shaped config with `buildRuntime`, start
 * it, and capture its log lines.
 * @module
 */
import type { Config } from "../src/config/types.ts";
import { Logger } from "../src/core/log.ts";
import { buildRuntime, type Runtime } from "../src/service/build.ts";

export interface RunningConfig {
  runtime: Runtime;
  /** Log lines so far (JSON). */
  logs: string[];
  close(): Promise<void>;
}

/** Builds and starts every service of `config`; throws on config errors. */
export async function startConfig(config: Config, level: "info" | "debug" = "info"): Promise<RunningConfig> {
  const logs: string[] = [];
  const log = new Logger({ level, format: "json", sink: (l) => logs.push(l) });
  const { runtime, errors } = await buildRuntime(config, log);
  if (!runtime) throw new Error(errors.map((e) => e.message).join("\n"));
  for (const s of runtime.services) await s.start();
  return {
    runtime,
    logs,
    async close() {
      await Promise.all(runtime.services.map((s) => s.close()));
      for (const c of runtime.chains.values()) c.close();
    },
  };
}

/** A service entry. */
export function svc(
  addr: string,
  handler: string,
  opts: {
    listener?: string;
    chain?: string;
    auth?: { username: string; password: string };
    metadata?: Record<string, unknown>;
    targets?: string[];
  } = {},
): NonNullable<Config["services"]>[number] {
  return {
    name: `svc-${handler}-${addr}`,
    addr,
    handler: { type: handler, chain: opts.chain, auth: opts.auth, metadata: opts.metadata },
    listener: { type: opts.listener ?? (handler === "udp" ? "udp" : "tcp"), metadata: opts.metadata },
    forwarder: opts.targets
      ? { nodes: opts.targets.map((addr, i) => ({ name: `target-${i}`, addr })) }
      : undefined,
  };
}

/** A chain entry: each hop a list of nodes given as `type://[user:pass@]host:port[?k=v]`. */
export function chain(name: string, hops: string[][]): NonNullable<Config["chains"]>[number] {
  return {
    name,
    hops: hops.map((nodes, hi) => ({
      name: `hop-${hi}`,
      nodes: nodes.map((u, ni) => {
        const url = new URL(u.replace(/^([a-z0-9]+):\/\//, "http://"));
        const type = u.slice(0, u.indexOf(":"));
        const metadata = Object.fromEntries(url.searchParams);
        return {
          name: `node-${ni}`,
          addr: url.host,
          connector: {
            type,
            metadata,
            auth: url.username
              ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
              : undefined,
          },
          dialer: { type: "tcp" },
        };
      }),
    })),
  };
}
