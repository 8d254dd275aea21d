/**
 * Serving one port from several threads: a Deno isolate runs JavaScript on one core, so the
 * main thread's services are repeated in N-1 Workers (each its own thread and event loop), all
 * listening on the same port with SO_REUSEPORT, and the kernel spreads new connections over them.
 *
 * Only services that keep no state across connections run in workers (`workerEligible` in
 * sharing.ts says which); everything else — and the whole config when `workers` is 1 — runs on
 * the main thread exactly as without workers. docs/architecture.md (Threads) has the whole story.
 * @module
 */
import type { Config } from "../config/types.ts";
import { cpuMicros } from "../core/cpu_time.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Runtime } from "./build.ts";
import { ReloadError, type ReloadSummary, serviceName, Supervisor } from "./reload.ts";
import {
  PORT_SHARING,
  portOf,
  probePorts,
  threadsOf,
  withPort,
  withSharedPorts,
  workerEligible,
  workersOnDemand,
} from "./sharing.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** One worker thread and its request/reply channel (each reply names its request's `seq`). */
class WorkerThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (r: WorkerReply) => void>();
  #seq = 0;
  /** Resolves when the thread dies (an uncaught error or a failed module load). */
  readonly died = Promise.withResolvers<string>();
  alive = true;

  constructor(readonly id: number, module: string) {
    this.#worker = new Worker(module, {
      type: "module",
      name: `gost-worker-${id}`,
    });
    this.#worker.onmessage = (e: MessageEvent<WorkerReply & { seq: number }>) => {
      this.#pending.get(e.data.seq)?.(e.data);
      this.#pending.delete(e.data.seq);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#die(e.message || "uncaught error");
    };
    this.#worker.onmessageerror = () => this.#die("unreadable message");
  }

  #die(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.#worker.terminate();
    this.died.resolve(why);
    for (const p of this.#pending.values()) p({ type: "failed", error: `worker ended: ${why}` });
    this.#pending.clear();
  }

  /**
   * Sends a request; resolves with its reply, or a failure when the thread ends or takes longer
   * than `timeoutMs` (no limit when undefined).
   */
  request(req: WorkerRequest, timeoutMs?: number): Promise<WorkerReply> {
    if (!this.alive) return Promise.resolve({ type: "failed", error: "worker not running" });
    const reply = Promise.withResolvers<WorkerReply>();
    const seq = ++this.#seq;
    this.#pending.set(seq, reply.resolve);
    this.#worker.postMessage({ ...req, seq });
    if (timeoutMs === undefined) return reply.promise;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<WorkerReply>((r) =>
      timer = setTimeout(() => r({ type: "failed", error: `no answer within ${timeoutMs} ms` }), timeoutMs)
    );
    return Promise.race([reply.promise, late]).finally(() => {
      clearTimeout(timer);
      this.#pending.delete(seq);
    });
  }

  /** Ends the thread now (its sockets close with it). */
  terminate(): void {
    this.#die("terminated");
  }
}

/** How long a worker may take to start or reload its services, and to stop them. */
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
/** `auto` starts the workers when the process uses this share of one core... */
const BUSY_SHARE = 0.5;
/** ...over one check period of this many ms. */
const WATCH_MS = 1000;
/** A worker that dies sooner than this after starting is not started again (it would loop). */
const MIN_LIFETIME_MS = 10_000;

/**
 * The {@link Supervisor} of the main thread, plus the workers repeating its eligible services.
 * A worker that fails to start or dies is logged (and restarted once it had run a while); the
 * main thread's services never depend on a worker.
 */
export class WorkerSupervisor extends Supervisor {
  readonly #threads = new Map<number, WorkerThread>();
  /** Threads no longer wanted, finishing their live connections. */
  readonly #retiring = new Set<WorkerThread>();
  /** The config (as the main thread built it) the workers should be running. */
  #config: Config = {};
  #count = 1;
  #stopping = false;
  /** Workers run (or are being started): from the start, or once `auto` saw a busy thread. */
  #active = false;
  /** `auto` before the workers start: the timer checking whether one thread is busy. */
  #watching?: ReturnType<typeof setInterval>;
  /** The thread count last logged, so that each change is said once. */
  #announced = 0;
  /** Syncs run one after another (a reload during a slow start waits for it). */
  #serial: Promise<unknown> = Promise.resolve();

  /** `workerModule`: what each thread runs (worker.ts; tests pass one that fails). */
  constructor(log: Logger, readonly workerModule: string = new URL("./worker.ts", import.meta.url).href) {
    super(log);
  }

  /**
   * `config` as the main thread must build it for a reload: ports shared as at the start (the
   * thread count is fixed for the process's life).
   */
  share(config: Config): Config {
    return withSharedPorts(config, this.#count);
  }

  /** Worker threads running now (not counting the main thread). */
  get workerCount(): number {
    return [...this.#threads.values()].filter((t) => t.alive).length;
  }

  override async start(config: Config, runtime: Runtime): Promise<void> {
    this.#count = threadsOf(config);
    if (!PORT_SHARING && !workersOnDemand(config) && config.workers !== 1 && config.workers !== "1") {
      this.log.warn(`workers: threads sharing a port need Linux (SO_REUSEPORT); serving on one thread`);
    }
    this.#active = !workersOnDemand(config);
    probePorts(config, new Set());
    await super.start(config, runtime);
    this.#config = config;
    // Not awaited: the main thread serves now (its start time stays that of one thread), and
    // a reload or stop meanwhile queues behind this (#sync is serial).
    if (this.#active) this.#sync();
    else this.#watch();
  }

  override async reload(config: Config, runtime: Runtime): Promise<ReloadSummary> {
    const asked = threadsOf(config);
    if (asked !== this.#count || workersOnDemand(config) !== workersOnDemand(this.#config)) {
      this.log.warn(
        `workers: ${config.workers ?? "auto"} asked, ${
          this.#config.workers ?? "auto"
        } runs; a new setting takes effect at restart`,
      );
    }
    const held = new Set(this.serviceNames.map((n) => portOf(this.service(n)?.listener.addr)));
    try {
      probePorts(config, held);
    } catch (err) {
      for (const c of runtime.chains.values()) c.close();
      throw new ReloadError(`the new config cannot start, the running one stays: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const summary = await super.reload(config, runtime);
    this.#config = config;
    if (this.#active) await this.#sync();
    else this.#watch();
    return summary;
  }

  /**
   * `workers: auto`: a program whose one thread keeps up stays one thread (a worker costs
   * ~16 MiB and some CPU per connection); once the process spends over half a core for a
   * second while two or more connections of worker services are live, the workers start, for
   * good. (One connection never spans threads, so a single busy one is no reason.)
   */
  #watch(): void {
    if (this.#count <= 1 || this.#watching !== undefined) return;
    // The CPU clock is read only while two connections are live: an idle process never loads
    // it (its first use costs ~6 MiB, see core/cpu_time.ts).
    let last: { cpu: number; at: number } | undefined;
    const timer = setInterval(() => {
      if (this.#active || this.#stopping) return;
      const eligible = new Set(this.#eligibleNames());
      const live = this.serviceNames.filter((n) => eligible.has(n))
        .reduce((sum, n) => sum + (this.service(n)?.liveConnections ?? 0), 0);
      const cpu = live >= 2 ? cpuMicros() : undefined;
      const prev = last;
      last = cpu === undefined ? undefined : { cpu, at: performance.now() };
      if (!prev || !last) return;
      const share = (last.cpu - prev.cpu) / 1000 / (last.at - prev.at);
      if (share < BUSY_SHARE) return;
      this.#unwatch();
      this.#active = true;
      this.log.info(
        `workers: ${live} connections keep one thread busy (${Math.round(share * 100)}% CPU), starting ${
          this.#count - 1
        } more thread(s)`,
      );
      this.#sync();
    }, WATCH_MS);
    Deno.unrefTimer(timer);
    this.#watching = timer;
  }

  #unwatch(): void {
    clearInterval(this.#watching);
    this.#watching = undefined;
  }

  override async stop(): Promise<void> {
    this.#stopping = true;
    this.#unwatch();
    await Promise.all([super.stop(), this.#stopThreads()]);
  }

  async #stopThreads(): Promise<void> {
    const threads = [...this.#threads.values(), ...this.#retiring];
    this.#threads.clear();
    await Promise.all(threads.map(async (t) => {
      await t.request({ type: "stop" }, STOP_TIMEOUT_MS);
      t.terminate();
    }));
  }

  /** The config a worker runs: the eligible services, on the ports the main thread bound. */
  #workerConfig(): Config {
    const services = (this.#config.services ?? []).flatMap((s, i) => {
      if (!workerEligible(s, this.#config)) return [];
      // Named as the main thread names it, whatever services are left out before it.
      const name = serviceName(s, i);
      if (portOf(s.addr) !== 0) return [{ ...s, name }];
      // Port 0: the port the main thread got.
      const bound = portOf(this.service(name)?.listener.addr);
      return bound ? [{ ...s, name, addr: withPort(s.addr, bound) }] : [];
    });
    return { ...this.#config, services };
  }

  /** Brings every worker to the current config: starts missing threads, reloads running ones. */
  #sync(): Promise<void> {
    const run = this.#serial.then(() => this.#syncNow());
    this.#serial = run.catch(() => {});
    return run;
  }

  async #syncNow(): Promise<void> {
    if (this.#stopping) return;
    const eligible = (this.#config.services ?? []).some((s) => workerEligible(s, this.#config));
    const wanted = eligible ? this.#count - 1 : 0;
    const config = this.#workerConfig();
    const jobs: Promise<void>[] = [];
    for (let id = 1; id <= wanted; id++) {
      const t = this.#threads.get(id);
      if (!t?.alive) jobs.push(this.#spawn(id, config));
      else {
        jobs.push(
          t.request({ type: "reload", config }, START_TIMEOUT_MS).then((r) => {
            if (r.type === "ok") return;
            // A worker left on the old config would serve it on the shared port: start afresh.
            this.log.error(`worker ${id}: reload failed, starting it again on the new config: ${r.error}`, {
              worker: id,
            });
            t.terminate();
            return this.#spawn(id, config);
          }),
        );
      }
    }
    // Threads beyond what the config wants now (no service left for them) stop accepting, and
    // end once their live connections have finished, as a replaced service's would.
    for (const [id, t] of this.#threads) {
      if (id <= wanted || !t.alive) continue;
      this.#threads.delete(id);
      this.#retiring.add(t);
      t.request({ type: "retire" }).then(() => {
        t.terminate();
        this.#retiring.delete(t);
      });
    }
    await Promise.all(jobs);
    const running = this.workerCount;
    if (running === this.#announced || this.#stopping) return;
    this.#announced = running;
    if (running) {
      this.log.info(
        `workers: ${running + 1} threads accept connections for ${this.#eligibleNames().join(", ")}`,
        { workers: running + 1 },
      );
    }
  }

  /** Names of the current config's services that workers repeat. */
  #eligibleNames(): string[] {
    return (this.#config.services ?? []).flatMap((s, i) =>
      workerEligible(s, this.#config) ? [serviceName(s, i)] : []
    );
  }

  async #spawn(id: number, config: Config): Promise<void> {
    let thread: WorkerThread;
    try {
      thread = new WorkerThread(id, this.workerModule);
    } catch (err) {
      this.log.error(`worker ${id}: cannot start: ${errorMessage(err)}`, { worker: id });
      return;
    }
    this.#threads.set(id, thread);
    const started = performance.now();
    const reply = await thread.request({ type: "start", id, config }, START_TIMEOUT_MS);
    if (reply.type !== "ok") {
      if (this.#stopping) return;
      this.log.error(`worker ${id}: cannot start, the main thread serves without it: ${reply.error}`, {
        worker: id,
      });
      thread.terminate();
      return;
    }
    this.log.debug(`worker ${id}: serving (${(performance.now() - started).toFixed(0)} ms to start)`, {
      worker: id,
    });
    thread.died.promise.then((why) => {
      if (this.#stopping || why === "terminated") return;
      const lived = performance.now() - started;
      if (lived < MIN_LIFETIME_MS) {
        this.log.error(`worker ${id}: died after ${lived.toFixed(0)} ms (${why}); not restarted`, {
          worker: id,
        });
        return;
      }
      this.log.error(`worker ${id}: died (${why}); starting it again`, { worker: id });
      this.#sync();
    });
  }
}
