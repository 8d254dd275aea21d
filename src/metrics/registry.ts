/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels, kept as plain numbers so that updating one costs a map lookup. What
 * gost exports (go-gost/x metrics) is declared in `gost.ts`; this module knows nothing of gost.
 * @module
 */

/** Label values in the family's label order. */
export type LabelValues = readonly string[];

type Kind = "counter" | "gauge" | "histogram";

/** One metric family: a name, its help, its labels and a value per label combination. */
abstract class Family<V> {
  readonly series = new Map<string, { labels: LabelValues; value: V }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly kind: Kind,
  ) {}

  /**
   * The value of `labels`, created by `init` the first time. Callers that count the same series
   * again and again keep the returned cell and update it directly: a lookup joins the label values
   * into a key (a string built per call), which per connection cost more than the count itself.
   */
  protected at(labels: LabelValues, init: () => V): V {
    const key = labels.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      if (labels.length !== this.labelNames.length) {
        throw new Error(`${this.name}: ${labels.length} label values for ${this.labelNames.length} labels`);
      }
      s = { labels: [...labels], value: init() };
      this.series.set(key, s);
    }
    return s.value;
  }

  /** Forgets the series matching `predicate` (a cell kept from before then counts nowhere). */
  remove(predicate: (labels: LabelValues) => boolean): void {
    for (const [k, s] of this.series) if (predicate(s.labels)) this.series.delete(k);
  }

  abstract render(out: string[]): void;

  protected labelText(labels: LabelValues, extra?: [string, string]): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabel(labels[i])}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return pairs.length ? `{${pairs.join(",")}}` : "";
  }

  protected header(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    out.push(`# TYPE ${this.name} ${this.kind}`);
  }
}

/** A value that only goes up. */
export class Counter extends Family<Cell> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, "counter");
  }
  add(labels: LabelValues, n = 1): void {
    this.at(labels, newCell).v += n;
  }
  /** The series of `labels` as a cell to add to directly (`cell.v += n`; never subtract). */
  cell(labels: LabelValues): Cell {
    return this.at(labels, newCell);
  }
  get(labels: LabelValues): number {
    return this.series.get(labels.join("\u0000"))?.value.v ?? 0;
  }
  render(out: string[]): void {
    this.header(out);
    for (const s of this.series.values()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.v)}`);
    }
  }
}

/** The value of one counter or gauge series. */
export interface Cell {
  v: number;
}

const newCell = (): Cell => ({ v: 0 });

/** A value that goes up and down. */
export class Gauge extends Family<Cell> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, "gauge");
  }
  add(labels: LabelValues, n: number): void {
    this.at(labels, newCell).v += n;
  }
  set(labels: LabelValues, n: number): void {
    this.at(labels, newCell).v = n;
  }
  /** The series of `labels` as a cell to update directly. */
  cell(labels: LabelValues): Cell {
    return this.at(labels, newCell);
  }
  get(labels: LabelValues): number {
    return this.series.get(labels.join("\u0000"))?.value.v ?? 0;
  }
  render(out: string[]): void {
    this.header(out);
    for (const s of this.series.values()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.v)}`);
    }
  }
}

/** The state of one histogram series: a count per bucket (not cumulative), sum and count. */
export interface HistogramCell {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets (upper bounds in seconds, or whatever unit). */
export class Histogram extends Family<HistogramCell> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, "histogram");
  }
  observe(labels: LabelValues, v: number): void {
    this.record(this.cell(labels), v);
  }
  /** The series of `labels`, to {@link record} into without looking it up again. */
  cell(labels: LabelValues): HistogramCell {
    return this.at(labels, () => ({ counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
  }
  /** One observation into a series of this histogram. */
  record(h: HistogramCell, v: number): void {
    // Stored per bucket; rendering makes them cumulative.
    const b = this.buckets;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    if (i < b.length) h.counts[i]++;
    h.sum += v;
    h.count++;
  }
  render(out: string[]): void {
    this.header(out);
    for (const s of this.series.values()) {
      let cum = 0;
      this.buckets.forEach((b, i) => {
        cum += s.value.counts[i];
        out.push(`${this.name}_bucket${this.labelText(s.labels, ["le", num(b)])} ${cum}`);
      });
      out.push(`${this.name}_bucket${this.labelText(s.labels, ["le", "+Inf"])} ${s.value.count}`);
      out.push(`${this.name}_sum${this.labelText(s.labels)} ${num(s.value.sum)}`);
      out.push(`${this.name}_count${this.labelText(s.labels)} ${s.value.count}`);
    }
  }
}

/** Metric families rendered together. */
export class Registry {
  readonly #families: Family<unknown>[] = [];

  counter(name: string, help: string, labels: readonly string[]): Counter {
    return this.#add(new Counter(name, help, labels));
  }
  gauge(name: string, help: string, labels: readonly string[]): Gauge {
    return this.#add(new Gauge(name, help, labels));
  }
  histogram(name: string, help: string, labels: readonly string[], buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labels, buckets));
  }

  #add<F extends { name: string }>(f: F): F {
    if (this.#families.some((g) => g.name === f.name)) throw new Error(`metric ${f.name} declared twice`);
    this.#families.push(f as unknown as Family<unknown>);
    return f;
  }

  /** Every family with at least one series, in the text format. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families) if (f.series.size) f.render(out);
    return out.length ? out.join("\n") + "\n" : "";
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function num(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}
