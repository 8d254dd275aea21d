/**
 * `-O yaml|json`: prints a config the way gost does — keys in gost's order, metadata keys
 * sorted, 2-space indentation, empty sections left out — so scripts can check what a
 * command line or a config file means without starting it.
 * @module
 */
import { normalize } from "./shape.ts";
import type { Config } from "./types.ts";
import { yaml } from "./yaml.ts";

/** The output formats of `-O`. */
export const OUTPUT_FORMATS = ["yaml", "json"] as const;
export type OutputFormat = typeof OUTPUT_FORMATS[number];

/** Serialises a config as YAML or JSON, in gost's key order. */
export async function configToText(config: Config, format: OutputFormat): Promise<string> {
  const ordered = normalize(config, undefined, { sortMaps: true });
  if (format === "json") return JSON.stringify(ordered, null, 2) + "\n";
  return (await yaml()).dump(ordered, { indent: 2, lineWidth: -1, noRefs: true, quotingType: '"' });
}
