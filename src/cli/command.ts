/**
 * What the command line asks for: flags parsed, `-C` sources loaded, `-L`/`-F` mapped, all
 * merged into one config (config files first, in order, then the command line's services
 * and chain appended), with the source position of every config path for error messages.
 * @module
 */
import type { Config } from "../config/types.ts";
import {
  defaultConfigPaths,
  loadConfigSource,
  type LoadedConfig,
  locate,
  mergeConfigs,
  type SourceMap,
} from "../config/load.ts";
import { shapeProblems } from "../config/shape.ts";
import { ConfigError, ConfigErrors } from "../core/errors.ts";
import { buildConfigFromArgs } from "./build.ts";
import { applyEndpoints } from "./endpoint.ts";
import { parseFlags, USAGE, UsageError } from "./flags.ts";

export { USAGE };

/** The parsed command line. */
export type CommandLine =
  | {
    kind: "run";
    config: Config;
    /** 0 = as configured, 1 = debug (`-D`), 2 = trace (`-DD`). */
    debug: number;
    output?: "yaml" | "json";
    /** Things worth telling the user that do not stop the program. */
    warnings: string[];
    /** Where each config path was written (for `line N:` in validation errors). */
    sources: SourceMap;
  }
  | { kind: "version" }
  | { kind: "usage"; error?: string };

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Parses argv. Usage mistakes come back as `{kind: "usage", error}`; an unreadable or
 * malformed config source or `-L`/`-F` URL throws (`ConfigLoadError`, `URLError`).
 */
export async function parseCommandLine(argv: string[]): Promise<CommandLine> {
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (err instanceof UsageError) return { kind: "usage", error: err.message };
    throw err;
  }
  if (flags.help) return { kind: "usage" };
  if (flags.version) return { kind: "version" };
  if (flags.groups.length) {
    return {
      kind: "usage",
      error: `running several gost groups separated by "--" is not supported yet; start one gost per group`,
    };
  }
  const warnings: string[] = [];
  if (flags.reload !== undefined) {
    warnings.push(`-R ${flags.reload}: automatic reload is not supported yet, ignored`);
  }

  let configs = flags.configs;
  // -api alone starts an empty program configured through the API (as gost).
  const apiOnly = flags.api !== undefined && flags.api !== "";
  if (configs.length === 0 && flags.services.length === 0 && !apiOnly) {
    if (flags.nodes.length) {
      return { kind: "usage", error: "-F needs at least one -L service to use the chain" };
    }
    const found = [];
    for (const p of defaultConfigPaths()) if (await exists(p)) found.push(p);
    if (!found.length) {
      return { kind: "usage", error: "nothing to run: give -L services or a -C config file" };
    }
    configs = [found[0]];
  }
  const parts: LoadedConfig[] = [];
  for (const c of configs) parts.push(await loadConfigSource(c));
  if (flags.services.length || flags.nodes.length) {
    const cmd = buildConfigFromArgs(flags.services, flags.nodes);
    warnings.push(...cmd.warnings);
    const sources: SourceMap = new Map();
    // Command-line paths have no line; marking them keeps errors from pointing into a file.
    cmd.config.services?.forEach((_, i) => sources.set(`services[${i}]`, { source: "-L" }));
    cmd.config.chains?.forEach((_, i) => sources.set(`chains[${i}]`, { source: "-F" }));
    parts.push({ config: cmd.config, sources });
  }
  const merged = mergeConfigs(parts);
  const problems = shapeProblems(merged.config);
  if (problems.length) {
    throw new ConfigErrors(problems.map(([path, why]) => {
      const err = new ConfigError(path, why);
      err.line = locate(merged.sources, path)?.line;
      return err;
    }));
  }
  let envLevel: string | undefined;
  try {
    envLevel = Deno.env.get("GOST_LOGGER_LEVEL");
  } catch {
    // no permission to read the environment
  }
  if (envLevel) (merged.config.log ??= {}).level = envLevel;
  applyEndpoints(merged.config, flags);
  if (flags.workers !== undefined) {
    merged.config.workers = /^\d+$/.test(flags.workers) ? Number(flags.workers) : flags.workers;
  }
  if (flags.debug) (merged.config.log ??= {}).level = flags.debug >= 2 ? "trace" : "debug";
  return {
    kind: "run",
    config: merged.config,
    debug: flags.debug,
    output: flags.output,
    warnings,
    sources: merged.sources,
  };
}
