/**
 * Hosts (gost's host mapper): static name → IP mappings consulted before DNS, from the
 * config (`mappings`) and from a file in hosts-file format, re-read every `reload` period.
 *
 * Lookup order, as gost: the exact name, then `.name`, then the wildcards of each parent
 * domain (`.example.org`, `.org`), then `.` (every name). Names are matched without case.
 * @module
 */
import { isIPv4, isIPv6 } from "../core/addr.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

/** One name → address pair. */
export interface HostMapping {
  hostname: string;
  ip: string;
}

/** The address families a lookup may ask for. */
export type Family = "ip4" | "ip6";

/** True for an IPv4 or IPv6 literal (IPv6 without brackets). */
export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** A name as it is matched: lower case, without the trailing dot. */
export function normalizeHost(name: string): string {
  const n = name.trim().toLowerCase();
  return n.length > 1 && n.endsWith(".") ? n.slice(0, -1) : n;
}

/**
 * Parses hosts-file text (`IP name [aliases…]`, `#` comments): the mappings, and the
 * numbers of the lines that have content but no valid IP and name (gost skips those).
 */
export function parseHostsText(text: string): { mappings: HostMapping[]; bad: number[] } {
  const mappings: HostMapping[] = [];
  const bad: number[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i].indexOf("#");
    const line = (hash >= 0 ? lines[i].slice(0, hash) : lines[i]).trim();
    if (line === "") continue;
    const fields = line.split(/[ \t\r]+/);
    if (fields.length < 2 || !isIP(fields[0])) {
      bad.push(i + 1);
      continue;
    }
    for (const name of fields.slice(1)) mappings.push({ hostname: name, ip: fields[0] });
  }
  return { mappings, bad };
}

/** A hosts file and how often to read it again. */
export interface HostsFileSource {
  path: string;
  /** Re-read period in ms; 0 reads only at start. */
  reload: number;
}

/** The table one `hosts:` entry describes. */
export class HostMapper {
  #table = new Map<string, string[]>();
  #timer?: number;
  #reading = false;
  /** The skipped lines last warned about (a file read every second must not warn every second). */
  #lastBad = "";
  #lastErr = "";

  /**
   * `fileText` is the file's content read at start (the caller reports a missing file as a
   * config error); later reads that fail keep the last table and log a warning.
   */
  constructor(
    readonly name: string,
    readonly inline: HostMapping[],
    readonly file?: HostsFileSource & { text: string },
    readonly log?: Logger,
  ) {
    const parsed = parseHostsText(file?.text ?? "");
    this.#lastBad = parsed.bad.join(", ");
    this.#build(parsed.mappings);
    if (file && file.reload > 0) {
      const timer = setInterval(() => this.#reload(), Math.max(1000, file.reload)) as unknown as number;
      // A reload timer alone never keeps the process alive.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Number of names in the table. */
  get size(): number {
    return this.#table.size;
  }

  #build(fromFile: HostMapping[]): void {
    const table = new Map<string, string[]>();
    for (const m of [...this.inline, ...fromFile]) {
      const key = normalizeHost(m.hostname);
      const ips = table.get(key);
      if (!ips) table.set(key, [m.ip]);
      else if (!ips.includes(m.ip)) ips.push(m.ip);
    }
    this.#table = table;
  }

  async #reload(): Promise<void> {
    if (this.#reading || !this.file) return;
    this.#reading = true;
    try {
      const text = await Deno.readTextFile(this.file.path);
      const { mappings, bad } = parseHostsText(text);
      this.#build(mappings);
      if (bad.length) {
        this.log?.warn(
          `hosts ${this.name}: ${this.file.path}: lines ${bad.join(", ")} skipped (not "IP name")`,
        );
      }
      this.log?.debug(`hosts ${this.name}: reloaded ${this.#table.size} names from ${this.file.path}`);
    } catch (err) {
      this.log?.warn(
        `hosts ${this.name}: reload ${this.file.path}: ${errorMessage(err)} (keeping the last table)`,
      );
    } finally {
      this.#reading = false;
    }
  }

  /** Reads the file again now (what the reload timer does). */
  reload(): Promise<void> {
    return this.#reload();
  }

  /** The addresses mapped to `host` (of `family` when given), or undefined when none. */
  lookup(host: string, family?: Family): string[] | undefined {
    if (this.#table.size === 0) return undefined;
    const name = normalizeHost(host);
    let ips = this.#table.get(name) ?? this.#table.get("." + name);
    for (let i = name.indexOf("."); !ips && i > 0; i = name.indexOf(".", i + 1)) {
      ips = this.#table.get(name.slice(i));
    }
    ips ??= this.#table.get(".");
    if (!ips) return undefined;
    if (family) ips = ips.filter((ip) => (family === "ip4") === isIPv4(ip));
    return ips.length ? ips : undefined;
  }

  /** Stops the reload timer. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
