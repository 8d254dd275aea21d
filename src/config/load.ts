/**
 * Loads gost config files (YAML, or JSON — JSON is YAML) and remembers where each config
 * path came from, so a validation error can say `line 12: services[1].handler.type: …`.
 *
 * Keys of known sections are matched case-insensitively and respelt as gost spells them
 * (`Handler` → `handler`, `certfile` → `certFile`), as gost's config reader does; metadata
 * keys are kept as written (components read them case-insensitively).
 *
 * Several sources (several `-C`, and `-C` with `-L`/`-F`) merge like gost: list sections
 * (`services`, `chains`, `bypasses`, …) are appended in order, and single sections (`log`,
 * `api`, `tls`, …) are taken from the last source that has them.
 * @module
 */
import { ConfigError, errorMessage } from "../core/errors.ts";
import { canonicalKey, CONFIG_SHAPE, type Field, normalize } from "./shape.ts";
import type { Config } from "./types.ts";
import { type Yaml, yaml as loadYaml } from "./yaml.ts";

/** Where a config path was written: the source's name (a file, `standard input`, `-L`, `-F`) and 1-based line. */
export interface SourcePos {
  source: string;
  /** Absent for paths made from the command line. */
  line?: number;
}

/** Config paths (`services[1].handler.type`) → where they were written. */
export type SourceMap = Map<string, SourcePos>;

/** A config with its source positions. */
export interface LoadedConfig {
  config: Config;
  sources: SourceMap;
}

/** A source that cannot be read or parsed; the message names it and, for YAML errors, the line. */
export class ConfigLoadError extends Error {
  constructor(readonly source: string, readonly line: number | undefined, why: string) {
    super(`${source}${line ? `: line ${line}` : ""}: ${why}`);
    this.name = "ConfigLoadError";
  }
}

interface Frame {
  line: number;
  result?: unknown;
  children: Frame[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function childField(field: Field | undefined, key: string): { key: string; field?: Field } {
  if (field && typeof field === "object" && "fields" in field) {
    const canon = canonicalKey(field, key);
    if (canon !== undefined) return { key: canon, field: field.fields[canon] };
  }
  return { key };
}

/** Records the line of every path below `frame`, following the config shape to respell keys. */
function mapLines(frame: Frame, path: string, field: Field | undefined, name: string, out: SourceMap): void {
  // A flow collection at the document's top comes wrapped in a second node event.
  while (frame.children.length === 1 && frame.children[0].result === frame.result) frame = frame.children[0];
  if (Array.isArray(frame.result)) {
    const item = field && typeof field === "object" && "list" in field ? field.list : undefined;
    frame.children.forEach((child, i) => {
      const p = `${path}[${i}]`;
      out.set(p, { source: name, line: child.line });
      mapLines(child, p, item, name, out);
    });
  } else if (isRecord(frame.result)) {
    const metadata = field === "map";
    for (let i = 0; i + 1 < frame.children.length; i += 2) {
      const keyFrame = frame.children[i], valueFrame = frame.children[i + 1];
      const k = keyFrame.result;
      if (typeof k !== "string" && typeof k !== "number") continue;
      const { key, field: sub } = metadata
        ? { key: String(k), field: undefined }
        : childField(field, String(k));
      const p = path ? `${path}.${key}` : key;
      if (!out.has(p)) out.set(p, { source: name, line: keyFrame.line });
      mapLines(valueFrame, p, sub, name, out);
    }
  }
}

/**
 * Parses config text (YAML or JSON). `name` labels messages (a file name, `-` for stdin).
 * Rejects with {@link ConfigLoadError} for malformed YAML or a document that is not a mapping.
 */
export async function parseConfigText(text: string, name: string): Promise<LoadedConfig> {
  const yaml = await loadYaml();
  const stack: Frame[] = [{ line: 0, children: [] }];
  let doc: unknown;
  try {
    doc = yaml.load(
      text,
      {
        filename: name,
        // js-yaml reports each node as it opens and closes; nesting gives the tree of lines.
        listener(event: string, state: { line: number; result: unknown }) {
          if (event === "open") {
            const frame: Frame = { line: state.line + 1, children: [] };
            stack[stack.length - 1].children.push(frame);
            stack.push(frame);
          } else if (stack.length > 1) {
            stack.pop()!.result = state.result;
          }
        },
      } as Parameters<Yaml["load"]>[1],
    );
  } catch (err) {
    const mark = (err as { mark?: { line: number; column: number } }).mark;
    const reason = (err as { reason?: string }).reason ?? errorMessage(err);
    throw new ConfigLoadError(
      name,
      mark ? mark.line + 1 : undefined,
      `malformed YAML: ${reason}${mark ? ` (column ${mark.column + 1})` : ""}`,
    );
  }
  if (doc === undefined || doc === null) return { config: {}, sources: new Map() };
  if (!isRecord(doc)) {
    throw new ConfigLoadError(
      name,
      1,
      `the config must be a mapping with services, chains, … (got ${
        Array.isArray(doc) ? "a list" : JSON.stringify(doc)
      })`,
    );
  }
  const sources: SourceMap = new Map();
  const root = stack[0].children[0];
  if (root) mapLines(root, "", CONFIG_SHAPE, name, sources);
  return { config: normalize(doc) as Config, sources };
}

/** Reads a `-C` argument: a file, `-` for standard input, or inline JSON (`{"services": …}`). */
export async function loadConfigSource(arg: string): Promise<LoadedConfig> {
  if (arg.trimStart().startsWith("{")) return await parseConfigText(arg, "<inline>");
  let text: string;
  try {
    text = arg === "-" ? await new Response(Deno.stdin.readable).text() : await Deno.readTextFile(arg);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : errorMessage(err);
    throw new ConfigLoadError(arg === "-" ? "standard input" : arg, undefined, `cannot read: ${why}`);
  }
  return await parseConfigText(text, arg === "-" ? "standard input" : arg);
}

/** gost's default config locations, searched when neither `-L` nor `-C` is given. */
export function defaultConfigPaths(): string[] {
  let home: string | undefined;
  try {
    home = Deno.env.get("HOME");
  } catch {
    // no permission to read the environment: skip ~/.gost
  }
  const dirs = ["/etc/gost", ...(home ? [`${home}/.gost`] : []), "."];
  return dirs.flatMap((d) => ["yaml", "yml", "json"].map((ext) => `${d}/gost.${ext}`));
}

/** Merges configs in order: list sections appended (source paths renumbered), others replaced. */
export function mergeConfigs(parts: LoadedConfig[]): LoadedConfig {
  const config: Record<string, unknown> = {};
  const sources: SourceMap = new Map();
  for (const part of parts) {
    const offsets = new Map<string, number>();
    for (const [key, value] of Object.entries(part.config)) {
      const prev = config[key];
      if (Array.isArray(value) && (Array.isArray(prev) || prev === undefined)) {
        offsets.set(key, Array.isArray(prev) ? prev.length : 0);
        config[key] = [...(Array.isArray(prev) ? prev : []), ...value];
      } else {
        config[key] = value;
        for (const p of [...sources.keys()]) if (p === key || p.startsWith(`${key}.`)) sources.delete(p);
      }
    }
    for (const [path, pos] of part.sources) {
      const m = /^([A-Za-z]+)\[(\d+)\](.*)$/.exec(path);
      const off = m ? offsets.get(m[1]) : undefined;
      sources.set(off ? `${m![1]}[${Number(m![2]) + off}]${m![3]}` : path, pos);
    }
  }
  return { config: normalize(config) as Config, sources };
}

/** The source position of `path`, or of its nearest enclosing path that has one. */
export function locate(sources: SourceMap, path: string): SourcePos | undefined {
  let p = path;
  for (;;) {
    const pos = sources.get(p);
    if (pos) return pos;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
}

/**
 * Formats validation errors one per line, each with its source position when known:
 * `line 12: services[1].handler.type: unknown handler type "htp" (supported: …)`; the
 * source name is added when the config came from several sources.
 */
export function formatConfigErrors(errors: ConfigError[], sources: SourceMap): string {
  const names = new Set([...sources.values()].filter((p) => p.line).map((p) => p.source));
  return errors.map((e) => {
    const pos = locate(sources, e.path);
    if (!pos?.line) return e.message;
    e.line = pos.line;
    return `${names.size > 1 ? `${pos.source} ` : ""}line ${pos.line}: ${e.message}`;
  }).join("\n");
}

/** Prefixes `line N: ` to a message that starts with a config path (`services[0].x: …`), when known. */
export function withLine(message: string, sources: SourceMap): string {
  const m = /^([A-Za-z][\w.\[\]-]*): /.exec(message);
  const pos = m ? locate(sources, m[1]) : undefined;
  return pos?.line ? `line ${pos.line}: ${message}` : message;
}
