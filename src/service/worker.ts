/**
 * The entry of a worker thread (see workers.ts): builds and runs the services the main thread
 * sends, on the same ports (SO_REUSEPORT), with a {@link Supervisor} of its own so that a reload
 * keeps, replaces and removes services here exactly as on the main thread. Every log line of a
 * worker carries `worker: <id>`; its "listening on" lines are debug (the main thread's say it).
 *
 * Requests are handled one at a time, in order, except `stop`, which runs at once (it must not
 * wait behind a `retire` that waits for connections); each gets exactly one reply, with its `seq`.
 * @module
 */
import type { Config } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import { applyLogSettings, type Logger, parseLogConfig, rootLogger } from "../core/log.ts";
import { buildRuntime } from "./build.ts";
import { Supervisor } from "./reload.ts";

/** What the main thread asks a worker. */
export type WorkerRequest =
  | { type: "start"; id: number; config: Config }
  | { type: "reload"; config: Config }
  | { type: "stop" }
  /** Stop accepting, let live connections finish, then stop. */
  | { type: "retire" };

/** A worker's answer to one request. */
export type WorkerReply = { type: "ok" } | { type: "failed"; error: string };

let supervisor: Supervisor | undefined;
let log: Logger = rootLogger;

/** Log settings and a built runtime for `config`, or why not (the main thread validated it already). */
async function prepare(config: Config) {
  const logCfg = parseLogConfig(config.log);
  if (!logCfg.settings) throw new Error(logCfg.errors.map((e) => e.message).join("; "));
  applyLogSettings(logCfg.settings);
  const { runtime, errors } = await buildRuntime(config, log);
  if (!runtime) throw new Error(errors.map((e) => e.message).join("; "));
  return runtime;
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.type) {
    case "start": {
      log = rootLogger.with({ worker: req.id });
      // The main thread says "listening on" once per service; a worker's repeat is detail.
      supervisor = new Supervisor(log, "debug");
      await supervisor.start(req.config, await prepare(req.config));
      return;
    }
    case "reload":
      if (!supervisor) throw new Error("not started");
      await supervisor.reload(req.config, await prepare(req.config));
      return;
    case "stop":
      await supervisor?.stop();
      return;
    case "retire": {
      const services = supervisor?.serviceNames.map((n) => supervisor!.service(n)!) ?? [];
      await Promise.all(services.map((s) => s.stopAccepting()));
      await Promise.all(services.map((s) => s.drained()));
      await supervisor?.stop();
      return;
    }
  }
}

/** Installs the message loop (only when this module runs as a worker). */
/** The parts of a worker's global scope this module uses. */
interface WorkerScope extends EventTarget {
  postMessage(m: WorkerReply & { seq: number }): void;
  onmessage: ((e: MessageEvent<WorkerRequest & { seq: number }>) => void) | null;
}

function serve(scope: WorkerScope): void {
  // A bug in one connection must never take the worker's other connections down.
  scope.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error(`unhandled: ${errorMessage((e as PromiseRejectionEvent).reason)}`);
  });
  scope.addEventListener("error", (e) => {
    e.preventDefault();
    log.error(`uncaught: ${errorMessage((e as ErrorEvent).error)}`);
  });
  let queue = Promise.resolve();
  scope.onmessage = (e) => {
    const { seq } = e.data;
    const run = e.data.type === "stop" ? handle(e.data) : (queue = queue.then(() => handle(e.data)));
    run.then(
      () => scope.postMessage({ type: "ok", seq }),
      (err) => scope.postMessage({ type: "failed", error: errorMessage(err), seq }),
    );
    queue = queue.catch(() => {});
  };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope === "function" && scope instanceof scope.WorkerGlobalScope) serve(scope);
