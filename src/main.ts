/**
 * The gost command: parse flags or a config file, validate everything, start the services,
 * and stop cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 clean stop (or -O/-V), 1 invalid config, 2 bad usage, 3 a listen address
 * could not be bound.
 * @module
 */
import { parseCommandLine, USAGE } from "./cli/command.ts";
import { formatConfigErrors, withLine } from "./config/load.ts";
import { configToText } from "./config/output.ts";
import { ConfigError, ConfigErrors, errorMessage } from "./core/errors.ts";
import { configureLog, type Level, LEVELS, rootLogger } from "./core/log.ts";
import { ListenError } from "./core/types.ts";
import { buildRuntime } from "./service/build.ts";
import { VERSION } from "./version.ts";

/** Exit codes, documented in the README. */
export const EXIT = { OK: 0, CONFIG: 1, USAGE: 2, LISTEN: 3 } as const;

const encoder = new TextEncoder();

function printErr(text: string) {
  Deno.stderr.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
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
    console.log(`gost ${VERSION} (deno ${Deno.version.deno} ${Deno.build.os}/${Deno.build.arch})`);
    return EXIT.OK;
  }
  if (cmd.kind === "usage") {
    if (cmd.error) printErr(`gost: ${cmd.error}`);
    printErr(USAGE);
    return cmd.error ? EXIT.USAGE : EXIT.OK;
  }
  const { config } = cmd;
  for (const w of cmd.warnings) printErr(`gost: warning: ${w}`);
  if (cmd.output) {
    console.log(configToText(config, cmd.output).trimEnd());
    return EXIT.OK;
  }

  const level = (cmd.debug >= 2 ? "trace" : cmd.debug === 1 ? "debug" : config.log?.level) as
    | Level
    | undefined;
  if (level && !LEVELS.includes(level)) {
    const err = new ConfigError(
      "log.level",
      `unknown level ${JSON.stringify(level)} (allowed: ${LEVELS.join(", ")})`,
    );
    printErr(`gost: invalid config:\n${formatConfigErrors([err], cmd.sources)}`);
    return EXIT.CONFIG;
  }
  configureLog({ level: level ?? "info" });

  const { runtime, errors } = buildRuntime(config, rootLogger);
  if (!runtime) {
    printErr(`gost: invalid config:\n${formatConfigErrors(errors, cmd.sources)}`);
    return EXIT.CONFIG;
  }
  for (const w of runtime.warnings) rootLogger.warn(withLine(w, cmd.sources));

  const stopped = Promise.withResolvers<void>();
  const started = [];
  for (const svc of runtime.services) {
    try {
      await svc.start();
      started.push(svc);
    } catch (err) {
      for (const s of started) await s.close();
      printErr(`gost: ${errorMessage(err)}`);
      return err instanceof ListenError ? EXIT.LISTEN : EXIT.CONFIG;
    }
  }
  const stop = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  await stopped.promise;
  rootLogger.info("stopping");
  for (const s of signals) Deno.removeSignalListener(s, stop);
  await Promise.all(runtime.services.map((s) => s.close()));
  for (const c of runtime.chains.values()) c.close();
  return EXIT.OK;
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
