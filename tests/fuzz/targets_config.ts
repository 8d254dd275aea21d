/**
 * Fuzz targets: the gost URL grammar, the command-line builder, and YAML/JSON configs
 * (loaded, then built into services without binding anything, as gost does before it starts).
 *
 * Rejecting input here is a typed error (URLError, ConfigLoadError, ConfigError) or a plain
 * `Error` with a message (the builders throw those for a bad port range and the like, and
 * the CLI prints them). A TypeError, RangeError or any other built-in error is a crash: it
 * means the builder met a shape it did not expect.
 * @module
 */
import { parseGostURL, URLError } from "../../src/cli/url.ts";
import { buildConfigFromArgs } from "../../src/cli/build.ts";
import { ConfigLoadError, parseConfigText } from "../../src/config/load.ts";
import { ConfigError, ConfigErrors } from "../../src/core/errors.ts";
import { Logger } from "../../src/core/log.ts";
import { buildRuntime } from "../../src/service/build.ts";
import type { Target } from "./_target.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();
const quiet = new Logger({ level: "fatal", format: "json", sink: () => {} });

/** A deliberate rejection: a typed config error, or a plain Error carrying a message. */
function configRejects(err: unknown): boolean {
  if (err instanceof URLError || err instanceof ConfigLoadError) return true;
  if (err instanceof ConfigError || err instanceof ConfigErrors) return true;
  return err instanceof Error && Object.getPrototypeOf(err) === Error.prototype && err.message !== "";
}

function golden(): { args: string[]; yaml: string }[] {
  const url = new URL("../../src/cli/testdata/cli-golden.json", import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url)).cases;
}

/** The URL of every -L/-F in the golden command lines. */
function urlSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of golden()) c.args.forEach((a, i) => i % 2 === 1 && out.push(enc.encode(a)));
  return out;
}

const cliUrl: Target = {
  name: "cli.url",
  seeds: urlSeeds,
  run: (b) => void parseGostURL(dec.decode(b)),
  rejects: configRejects,
};

/** `-L` args, or (when the input has a newline) `-L first` `-F rest…` split at newlines. */
const cliBuild: Target = {
  name: "cli.build",
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const c of golden()) {
      const ls = c.args.filter((_, i) => i % 2 === 1 && c.args[i - 1] === "-L");
      const fs = c.args.filter((_, i) => i % 2 === 1 && c.args[i - 1] === "-F");
      out.push(enc.encode([ls.join(" "), ...fs].join("\n")));
    }
    return out;
  },
  run(b) {
    const [l, ...f] = dec.decode(b).split("\n");
    buildConfigFromArgs(l.split(" "), f);
  },
  rejects: configRejects,
};

/** Config text: loaded (YAML, with line numbers), then built; errors are returned, never thrown. */
const configLoad: Target = {
  name: "config.load",
  seeds: () => {
    const out = golden().map((c) => enc.encode(c.yaml));
    const dir = new URL("../../config/", import.meta.url);
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.endsWith(".yaml")) out.push(Deno.readFileSync(new URL(e.name, dir)));
    }
    return out;
  },
  async run(b) {
    const { config } = await parseConfigText(dec.decode(b), "fuzz.yaml");
    await buildRuntime(config, quiet);
  },
  rejects: configRejects,
};

/** The config targets. */
export const CONFIG_TARGETS: Target[] = [cliUrl, cliBuild, configLoad];
