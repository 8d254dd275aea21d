/**
 * The one step that turns an address's name into an IP before it is dialled (gost's
 * `net.Resolve`): the hosts mapper first, then the resolver; with neither, the address stays
 * as it is (the dialer, or the proxy at the end of a chain, resolves the name itself).
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import type { DialContext } from "../core/types.ts";
import { type HostMapper, isIP } from "../hosts/hosts.ts";
import type { Resolver } from "./resolver.ts";

/** Where names of one service, hop or node are looked up. */
export interface NameLookup {
  hosts?: HostMapper;
  resolver?: Resolver;
}

/** A name the resolver could not find: the dial fails instead of going elsewhere. */
export class ResolveError extends Error {
  constructor(readonly host: string, cause?: unknown) {
    super(
      `resolver: domain ${host} does not exist${cause ? ` (${(cause as Error).message ?? cause})` : ""}`,
      {
        cause,
      },
    );
    this.name = "ResolveError";
  }
}

/** True when `lookup` would change anything (so callers skip the step, and its await, otherwise). */
export function hasLookup(lookup: NameLookup | undefined): lookup is NameLookup {
  return !!lookup && (!!lookup.hosts || !!lookup.resolver);
}

/** `addr` (`host:port`) with its host replaced by the first address found for it. */
export async function resolveAddr(addr: string, lookup: NameLookup, ctx: DialContext): Promise<string> {
  if (addr === "") return addr;
  let host: string, port: number;
  try {
    ({ host, port } = splitHostPort(addr));
  } catch {
    return addr;
  }
  if (host === "" || isIP(host)) return addr;
  const mapped = lookup.hosts?.lookup(host);
  if (mapped) {
    ctx.log.debug(`hosts: ${host} -> ${mapped.join(", ")}`);
    return joinHostPort(mapped[0], port);
  }
  if (!lookup.resolver) return addr;
  let ips: string[];
  try {
    ips = await lookup.resolver.resolve(host, ctx);
  } catch (err) {
    throw new ResolveError(host, err);
  }
  if (!ips.length) throw new ResolveError(host);
  return joinHostPort(ips[0], port);
}
