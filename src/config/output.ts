/**
 * Prints a config as gost's `-O yaml|json` does. (Placeholder; see src/cli.)
 * @module
 */
import yaml from "js-yaml";
import type { Config } from "./types.ts";

/** Serialises a config as YAML or JSON. */
export function configToText(config: Config, format: "yaml" | "json"): string {
  return format === "json" ? JSON.stringify(config, null, 2) : yaml.dump(config, { lineWidth: -1 });
}
