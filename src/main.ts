/**
 * The gost command: parse flags or a config file, validate everything, start the services,
 * reload the config on SIGHUP without dropping users, and stop cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 clean stop (or -O/-V), 1 invalid config, 2 bad usage, 3 a listen address
 * could not be bound.
 * @module
 */
import { type ApiHost, exclusive } from "./api/api.ts";
import {
  oneThreadWhenObserved,
  parseEndpoints,
  prepareMetrics,
  startEndpoints,
  warnEndpointChange,
} from "./api/program.ts";
import { parseCommandLine, USAGE } from "./cli/command.ts";
import { shapeProblems } from "./config/shape.ts";
import type { Config } from "./config/types.ts";
import { formatConfigErrors, withLine } from "./config/load.ts";
import { configToText } from "./config/output.ts";
import { ConfigError, ConfigErrors, errorMessage, UnreadableFileError } from "./core/errors.ts";
import { applyLogSettings, type LogSettings, parseLogConfig, rootLogger } from "./core/log.ts";
import { startMallocTrimmer } from "./core/malloc_trim.ts";
import { ListenError } from "./core/types.ts";
import { buildRuntime, type Runtime } from "./service/build.ts";
import { withSharedPorts } from "./service/sharing.ts";
import { WorkerSupervisor } from "./service/workers.ts";
import { VERSION } from "./version.ts";

/** Exit codes, documented in the README. */
export const EXIT = { OK: 0, CONFIG: 1, USAGE: 2, LISTEN: 3 } as const;

const encoder = new TextEncoder();

function printErr(text: string) {
  Deno.stderr.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

/** `gost -V`: the version, the target it runs on, and whether it is a compiled binary. */
export function versionLine(): string {
  const build = Deno.build as typeof Deno.build & { standalone?: boolean };
  const how = build.standalone ? "compiled binary" : "from source";
  return `gost ${VERSION} (deno ${Deno.version.deno} ${Deno.build.target}, ${how})`;
}

/** Runs the program; resolves with the exit code once it has stopped. */
export async function main(argv: string[]): Promise<number> {
  let cmd;
  try {
    cmd = await parseCommandLine(argv);
  } catch (err) {
    if (err instanceof ConfigErrors) {
      printErr(`gost: invalid config:\n${err.message}`);
      return EXIT.CONFIG;
    }
    printErr(`gost: ${errorMessage(err)}`);
    return EXIT.CONFIG;
  }
  if (cmd.kind === "version") {
    console.log(versionLine());
    return EXIT.OK;
  }
  if (cmd.kind === "usage") {
    if (cmd.error) printErr(`gost: ${cmd.error}`);
    printErr(USAGE);
    return cmd.error ? EXIT.USAGE : EXIT.OK;
  }
  // What the API shows and edits: the config as loaded, before the rewriting below.
  const current = { config: cmd.config };
  // Threads sharing a port need SO_REUSEPORT on each of its sockets (service/sharing.ts).
  if (!cmd.output) {
    cmd.config = withSharedPorts(oneThreadWhenObserved(cmd.config, (w) => cmd.warnings.push(w)));
  }
  const { config } = cmd;
  for (const w of cmd.warnings) printErr(`gost: warning: ${w}`);
  if (cmd.output) return await printConfig(cmd, cmd.output);
  const prepared = await prepare(cmd);
  if ("error" in prepared) {
    printErr(`gost: invalid config:\n${prepared.error}`);
    return EXIT.CONFIG;
  }
  try {
    applyLogSettings(prepared.log);
  } catch (err) {
    printErr(`gost: invalid config:\n${errorMessage(err)}`);
    return EXIT.CONFIG;
  }
  for (const w of prepared.warnings) rootLogger.warn(w);

  // Signal handlers go in before anything listens: a script that sees "listening on" and
  // signals at once must get a clean stop or a reload, not the default action.
  const supervisor = new WorkerSupervisor(rootLogger);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const hup = Deno.build.os === "windows" ? undefined : "SIGHUP";
  let started = false;
  const reload = serialReload(() =>
    started ? exclusive(() => reloadFrom(argv, supervisor, current)).then(() => {}) : Promise.resolve()
  );
  for (const s of signals) Deno.addSignalListener(s, stop);
  if (hup) Deno.addSignalListener(hup, reload);
  const unlisten = () => {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    if (hup) Deno.removeSignalListener(hup, reload);
  };
  const host = apiHost(argv, cmd, supervisor, current);
  let endpoints: { close(): Promise<void> }[] = [];
  try {
    prepareMetrics(config);
    await supervisor.start(config, prepared.runtime);
    started = true;
    try {
      endpoints = startEndpoints(config, host, rootLogger);
    } catch (err) {
      await supervisor.stop();
      throw err;
    }
  } catch (err) {
    unlisten();
    printErr(`gost: ${errorMessage(err)}`);
    return err instanceof ListenError ? EXIT.LISTEN : EXIT.CONFIG;
  }
  const stopTrimmer = startMallocTrimmer(rootLogger);
  await stopped.promise;
  rootLogger.info("stopping");
  stopTrimmer();
  unlisten();
  await Promise.all([supervisor.stop(), ...endpoints.map((e) => e.close())]);
  return EXIT.OK;
}

type Run = Extract<Awaited<ReturnType<typeof parseCommandLine>>, { kind: "run" }>;

/** Builds everything a start would (nothing bound) and collects every problem. */
async function validate(cmd: Run) {
  const logCfg = parseLogConfig(cmd.config.log);
  // -D/-DD win over the config, as in gost.
  if (logCfg.settings && cmd.debug) logCfg.settings.level = cmd.debug >= 2 ? "trace" : "debug";
  const { runtime, errors } = await buildRuntime(cmd.config, rootLogger);
  errors.push(...parseEndpoints(cmd.config).errors);
  const warnings = [...logCfg.warnings, ...runtime?.warnings ?? []];
  // One component's unreadable files come as one error (core/files.ts readEach): one line each.
  const each = errors.flatMap((e) => e instanceof UnreadableFileError ? [e, ...e.others] : [e]);
  return { runtime, log: logCfg.settings, errors: [...logCfg.errors, ...each], warnings };
}

/**
 * Validates a parsed command line completely — the log section, then every service and
 * chain — without binding anything. `error` holds every problem, one per line with its
 * config line.
 */
async function prepare(
  cmd: Run,
): Promise<{ runtime: Runtime; log: LogSettings; warnings: string[] } | { error: string }> {
  const { runtime, log, errors, warnings } = await validate(cmd);
  if (errors.length || !runtime || !log) return { error: formatConfigErrors(errors, cmd.sources) };
  return { runtime, log, warnings: warnings.map((w) => withLine(w, cmd.sources)) };
}

/**
 * `-O`: validated like a start, so it doubles as a config check for scripts — except that files
 * the config names but this machine cannot read are warnings: the config is only printed and may
 * be meant for another machine (gost prints it without reading them).
 */
async function printConfig(cmd: Run, format: NonNullable<Run["output"]>): Promise<number> {
  const { runtime, errors, warnings } = await validate(cmd);
  for (const c of runtime?.chains.values() ?? []) c.close();
  const unreadable = (e: ConfigError) => e instanceof UnreadableFileError;
  const fatal = errors.filter((e) => !unreadable(e));
  if (fatal.length) {
    printErr(`gost: invalid config:\n${formatConfigErrors(fatal, cmd.sources)}`);
    return EXIT.CONFIG;
  }
  const lines = [...errors.filter(unreadable).map((e) => e.message), ...warnings];
  for (const w of lines) printErr(`gost: warning: ${withLine(w, cmd.sources)}`);
  console.log((await configToText(cmd.config, format)).trimEnd());
  return EXIT.OK;
}

/** Runs `fn` for each signal, one at a time; signals arriving meanwhile make one more run. */
function serialReload(fn: () => Promise<void>): () => void {
  let running: Promise<void> | undefined;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = fn().catch((err) => rootLogger.error(`reload: ${errorMessage(err)}`)).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };
  return run;
}

/**
 * The API's view of the program: changes are validated as a config file is (shape, then a full
 * build), refused when they name a section gost-deno ignores, and applied as a reload.
 */
function apiHost(
  argv: string[],
  cmd: Run,
  supervisor: WorkerSupervisor,
  current: { config: Config },
): ApiHost {
  return {
    config: () => current.config,
    service: (name) => supervisor.service(name),
    reload: () => reloadFrom(argv, supervisor, current),
    apply: async (next) => {
      const shape = shapeProblems(next);
      if (shape.length) return shape.map(([path, why]) => new ConfigError(path, why).message).join("; ");
      const run: Run = {
        ...cmd,
        config: supervisor.share(oneThreadWhenObserved(next, () => {})),
        sources: new Map(),
      };
      const prepared = await prepare(run);
      if ("error" in prepared) return prepared.error.replace(/\n/g, "; ");
      const ignored = prepared.warnings.filter((w) => /section not supported/.test(w));
      if (ignored.length) {
        for (const c of prepared.runtime.chains.values()) c.close();
        return ignored.join("; ");
      }
      for (const w of prepared.warnings) rootLogger.warn(w);
      try {
        await supervisor.reload(run.config, prepared.runtime);
      } catch (err) {
        return errorMessage(err);
      }
      current.config = next;
      return undefined;
    },
  };
}

/**
 * SIGHUP (and the API's POST /config/reload): re-reads the config sources; a config that fails
 * validation leaves everything running. Resolves with why it was refused, if it was.
 */
async function reloadFrom(
  argv: string[],
  supervisor: WorkerSupervisor,
  current: { config: Config },
): Promise<string | undefined> {
  rootLogger.info("reload: re-reading the config (SIGHUP)");
  if (argv.some((a, i) => a === "-" && /^--?C$/.test(argv[i - 1] ?? "")) || argv.includes("-C=-")) {
    const why = "the config came from standard input, which cannot be read again; nothing changed";
    rootLogger.warn(`reload: ${why}`);
    return why;
  }
  let cmd;
  try {
    cmd = await parseCommandLine(argv);
  } catch (err) {
    rootLogger.error(`reload: config rejected, the running one stays: ${errorMessage(err)}`);
    return errorMessage(err);
  }
  if (cmd.kind !== "run") return "the command line asks for no services";
  const loaded = cmd.config;
  warnEndpointChange(current.config, loaded, (w) => rootLogger.warn(w));
  cmd.config = supervisor.share(oneThreadWhenObserved(cmd.config, (w) => rootLogger.warn(w)));
  const prepared = await prepare(cmd);
  if ("error" in prepared) {
    rootLogger.error(`reload: config rejected, the running one stays:\n${prepared.error}`);
    return prepared.error;
  }
  for (const w of prepared.warnings) rootLogger.warn(w);
  try {
    // Re-opening a log file here lets logrotate move it away and send SIGHUP.
    applyLogSettings(prepared.log);
  } catch (err) {
    for (const c of prepared.runtime.chains.values()) c.close();
    rootLogger.error(`reload: config rejected, the running one stays: ${errorMessage(err)}`);
    return errorMessage(err);
  }
  try {
    await supervisor.reload(cmd.config, prepared.runtime);
  } catch (err) {
    rootLogger.error(`reload: ${errorMessage(err)}`);
    return errorMessage(err);
  }
  current.config = loaded;
}

if (import.meta.main) {
  // A bug in one connection must never take the others down: log it and keep serving.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    rootLogger.error(`unhandled: ${errorMessage(e.reason)}`);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    rootLogger.error(`uncaught: ${errorMessage(e.error)}`);
  });
  Deno.exit(await main(Deno.args));
}
