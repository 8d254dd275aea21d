/**
 * The metrics gost exports (go-gost/x 0.8.1, gost 3.2.6's): names, help, labels and histogram
 * buckets as gost declares them, counted per connection (at accept and at its end, never per
 * chunk). Off until {@link enableMetrics}; while off, `activeMetrics` is null and the hooks in
 * Service and ChainRouter cost one null check.
 * @module
 */
import { cpuClockReady, cpuMicros } from "../core/cpu_time.ts";
import {
  type Cell,
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramCell,
  Registry,
} from "./registry.ts";

/**
 * Distinct `client` label values per service. gost keeps a series per client IP forever, so a
 * scan from many addresses would grow memory without bound (five families each); past this many,
 * new clients are counted together under {@link OTHER_CLIENTS}.
 */
export const MAX_CLIENTS = 10_000;
/** The `client` label of connections from clients beyond {@link MAX_CLIENTS}. */
export const OTHER_CLIENTS = "other";

/** The series one connection counts into: those of its service and client. */
export interface ConnSeries {
  /** host, service, client. */
  readonly labels: readonly string[];
  readonly requests: Cell;
  readonly inFlight: Cell;
  readonly duration: HistogramCell;
  input?: Cell;
  output?: Cell;
  errors?: Cell;
}

/** The families of one process, all labelled with the machine's hostname (`host`). */
export class GostMetrics {
  readonly registry = new Registry();
  readonly services: Gauge;
  readonly requests: Counter;
  readonly inFlight: Gauge;
  readonly inputBytes: Counter;
  readonly outputBytes: Counter;
  readonly handlerErrors: Counter;
  readonly chainErrors: Counter;
  readonly duration: Histogram;
  readonly connectDuration: Histogram;
  readonly #cpu: Counter;
  readonly #rss: Gauge;
  readonly #start: Gauge;

  constructor(readonly host: string) {
    const r = this.registry;
    const svc = ["host", "service", "client"];
    // Declared in gost's order, which is also the order of the text output.
    this.services = r.gauge("gost_services", "Current number of services", ["host"]);
    this.inFlight = r.gauge("gost_service_requests_in_flight", "Current in-flight requests", svc);
    this.requests = r.counter("gost_service_requests_total", "Total number of requests", svc);
    this.inputBytes = r.counter(
      "gost_service_transfer_input_bytes_total",
      "Total service input data transfer size in bytes",
      svc,
    );
    this.outputBytes = r.counter(
      "gost_service_transfer_output_bytes_total",
      "Total service output data transfer size in bytes",
      svc,
    );
    this.handlerErrors = r.counter("gost_service_handler_errors_total", "Total service handler errors", svc);
    this.chainErrors = r.counter("gost_chain_errors_total", "Total chain errors", ["host", "chain", "node"]);
    this.duration = r.histogram(
      "gost_service_request_duration_seconds",
      "Distribution of request latencies",
      ["host", "service"],
      [.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60],
    );
    this.connectDuration = r.histogram(
      "gost_chain_node_connect_duration_seconds",
      "Distribution of chain node connect latencies",
      ["host", "chain", "node"],
      [.01, .05, .1, .25, .5, 1, 1.5, 2, 5, 10, 15, 30, 60],
    );
    // The standard process metrics gost's Go client exports too (the ones Deno can tell).
    this.#cpu = r.counter(
      "process_cpu_seconds_total",
      "Total user and system CPU time spent in seconds.",
      [],
    );
    this.#rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", []);
    this.#start = r.gauge(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      [],
    );
    this.#start.set([], Math.floor((Date.now() - performance.now()) / 1000));
  }

  /** The text format, with the process metrics read now. */
  async render(): Promise<string> {
    await cpuClockReady();
    const cpu = this.#cpu.get([]);
    this.#cpu.add([], (cpuMicros() ?? 0) / 1e6 - cpu);
    this.#rss.set([], Deno.memoryUsage().rss);
    return this.registry.render();
  }

  /**
   * The series of each (service, client), kept so that a connection's counts cost two map
   * lookups and a few additions. Looking each family up by its label values instead built six
   * joined keys and two arrays per connection (1.3–2.6 µs against 0.13 µs now; with the API on
   * too, CPU per forwarded connection went from +2.8% to +0.3% of the same forward without them,
   * tests/bench/ab.ts paired, 30 windows, 2026-12-02). Bounded per service: see {@link MAX_CLIENTS}.
   */
  readonly #conns = new Map<string, Map<string, ConnSeries>>();

  /** A connection accepted by `service` from `client` (an IP): the series its end counts into. */
  opened(service: string, client: string): ConnSeries {
    let clients = this.#conns.get(service);
    if (!clients) this.#conns.set(service, clients = new Map());
    let s = clients.get(client);
    if (!s) {
      if (clients.size >= MAX_CLIENTS) client = OTHER_CLIENTS;
      s = clients.get(client);
      if (!s) clients.set(client, s = this.#series(service, client));
    }
    s.requests.v++;
    s.inFlight.v++;
    return s;
  }

  #series(service: string, client: string): ConnSeries {
    const labels = [this.host, service, client];
    return {
      labels,
      requests: this.requests.cell(labels),
      inFlight: this.inFlight.cell(labels),
      duration: this.duration.cell([this.host, service]),
    };
  }

  /** The end of a connection {@link opened} into `s`. */
  closed(s: ConnSeries, seconds: number, input: number, output: number, failed: boolean): void {
    s.inFlight.v--;
    // Created at the first count, as gost's (Prometheus') series appear only once counted.
    if (input) (s.input ??= this.inputBytes.cell(s.labels)).v += input;
    if (output) (s.output ??= this.outputBytes.cell(s.labels)).v += output;
    if (failed) (s.errors ??= this.handlerErrors.cell(s.labels)).v++;
    this.duration.record(s.duration, seconds);
  }

  /** A service started (+1) or stopped (-1). */
  serviceUp(delta: 1 | -1): void {
    this.services.add([this.host], delta);
  }

  /** The first node of a route reached (dialed and its handshake done) in `ms`, as gost times it. */
  nodeConnected(chain: string, node: string, ms: number): void {
    this.connectDuration.observe([this.host, chain, node], ms / 1000);
  }

  /** A chain node that failed while a route was built through it. */
  chainError(chain: string, node: string): void {
    this.chainErrors.add([this.host, chain, node]);
  }
}

/** The process's metrics while a metrics endpoint runs; null otherwise. */
export let activeMetrics: GostMetrics | null = null;

/** Starts counting (idempotent); services already running are counted in `gost_services`. */
export function enableMetrics(runningServices = 0): GostMetrics {
  if (!activeMetrics) {
    activeMetrics = new GostMetrics(hostname());
    if (runningServices) activeMetrics.services.add([activeMetrics.host], runningServices);
  }
  return activeMetrics;
}

/** Stops counting and forgets every series (tests; a process keeps its metrics once on). */
export function disableMetrics(): void {
  activeMetrics = null;
}

/**
 * The machine's name, as Go's os.Hostname gives gost (which reads /proc/sys/kernel/hostname).
 * `Deno.hostname()` needs --allow-sys, which gost does not get, and Deno refuses /proc/sys to
 * anything short of --allow-all; /etc/hostname (readable under --allow-read) holds the same name
 * on Linux systems and containers.
 */
export function hostname(): string {
  const sys = () =>
    // Asked only when granted: an interactive `deno run` would otherwise prompt for it.
    Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted" ? Deno.hostname() : "";
  const file = (path: string) => () => Deno.readTextFileSync(path);
  for (const read of [file("/proc/sys/kernel/hostname"), file("/etc/hostname"), sys]) {
    try {
      const name = read().trim();
      if (name) return name;
    } catch {
      // not Linux, or no permission: try the next
    }
  }
  return "localhost";
}

/** The client label: the address without its port (gost's clientIP). */
export function clientIP(remote: string): string {
  const i = remote.lastIndexOf(":");
  if (i < 0) return remote;
  const host = remote.slice(0, i);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
