/**
 * What the command line asks for. (Placeholder: the full gost flag grammar lands in
 * src/cli/flags.ts and src/cli/url.ts.)
 * @module
 */
import type { Config } from "../config/types.ts";

/** The parsed command line. */
export type CommandLine =
  | { kind: "run"; config: Config; debug: number; output?: "yaml" | "json" }
  | { kind: "version" }
  | { kind: "usage"; error?: string };

/** Usage text printed for -h and for a bad flag. */
export const USAGE = `Usage: gost [-L service]... [-F node]... [-C file] [-O yaml|json] [-D] [-V]`;

/** Parses argv (placeholder implementation). */
export function parseCommandLine(_argv: string[]): Promise<CommandLine> {
  return Promise.resolve({ kind: "usage", error: "not implemented yet" });
}
