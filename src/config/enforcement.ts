/**
 * Fail closed: settings that would restrict who may use a service, where its traffic may go or how
 * much of it may pass, and that this program does not enforce yet. Accepting one of them with a
 * warning would turn a gost config that the user believes restricted into an open proxy, so each one
 * found is a config error (exit 1 at start, `-O` included) naming its path.
 *
 * When a kind of setting becomes enforced, its entry leaves these lists (and its tests move to the
 * component that enforces it). Settings that restrict nothing (`profiling`, …) are not listed here:
 * they stay warnings. (`api.auther` and `metrics.auther` are refused where those sections are read.)
 * @module
 */
import { ConfigError } from "../core/errors.ts";

/** Top-level sections whose entries restrict access or traffic. */
export const UNENFORCED_SECTIONS: ReadonlySet<string> = new Set([]);

/** Keys, per place in the config, that refer to a restricting section (or carry one inline). */
export const UNENFORCED_REFERENCES: Readonly<Record<Place, readonly string[]>> = {
  service: [],
  handler: [],
  listener: [],
  hop: [],
  node: [],
  forwarderNode: ["bypass", "bypasses"],
};

/** The places of a config that may hold a reference to a restricting section. */
export type Place = "service" | "handler" | "listener" | "hop" | "node" | "forwarderNode";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** A set value: anything but undefined, null, "" or an empty list. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return false;
  return !(Array.isArray(v) && v.length === 0);
}

function listOf(v: unknown): Rec[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

function checkPlace(obj: unknown, place: Place, path: string, out: ConfigError[]): void {
  if (!isRecord(obj)) return;
  for (const key of UNENFORCED_REFERENCES[place]) {
    if (isSet(obj[key])) {
      out.push(
        new ConfigError(
          `${path}.${key}`,
          `restricts access or traffic, which gost-deno does not enforce yet; refusing to start rather than run unrestricted (remove it to run without it)`,
        ),
      );
    }
  }
}

/** Every restricting setting of `config` that is not enforced, as config errors with their paths. */
export function unenforcedSettings(config: unknown): ConfigError[] {
  const out: ConfigError[] = [];
  if (!isRecord(config)) return out;
  for (const key of Object.keys(config)) {
    if (UNENFORCED_SECTIONS.has(key) && isSet(config[key])) {
      out.push(
        new ConfigError(
          key,
          `this section restricts access or traffic, which gost-deno does not enforce yet; refusing to start rather than run unrestricted`,
        ),
      );
    }
  }
  listOf(config.services).forEach((s, si) => {
    const spath = `services[${si}]`;
    checkPlace(s, "service", spath, out);
    checkPlace(s.handler, "handler", `${spath}.handler`, out);
    checkPlace(s.listener, "listener", `${spath}.listener`, out);
    listOf(s.forwarder?.nodes).forEach((n, ni) =>
      checkPlace(n, "forwarderNode", `${spath}.forwarder.nodes[${ni}]`, out)
    );
  });
  const hopsAt = (hops: unknown, path: string) =>
    listOf(hops).forEach((h, hi) => {
      const hpath = `${path}[${hi}]`;
      checkPlace(h, "hop", hpath, out);
      listOf(h.nodes).forEach((n, ni) => checkPlace(n, "node", `${hpath}.nodes[${ni}]`, out));
    });
  listOf(config.chains).forEach((c, ci) => hopsAt(c.hops, `chains[${ci}].hops`));
  hopsAt(config.hops, "hops");
  return out;
}
