/**
 * Runs every probe against one rig and measures the gost under test before, at peak and
 * after the settle time.
 * @module
 */
import { dial, dialConnect, fdLimits, peakSampler, procStats, sleep } from "./net.ts";
import {
  churn,
  concurrent,
  handshakeFlood,
  kcpFlood,
  peersKilled,
  type ProbeResult,
  slowClients,
  type SoakConfig,
} from "./probes.ts";
import { startRig } from "./setup.ts";

/** A soak's outcome. */
export interface SoakReport {
  results: ProbeResult[];
  before: { rssMiB: number; fds: number };
  peak: { rssMiB: number; fds: number };
  after: { rssMiB: number; fds: number };
  settleSeconds: number;
  /** Set when the gost under test exited during the soak. */
  exited?: string;
  /** Error lines gost logged (how many, and the first few distinct messages). */
  gostErrors: { count: number; first: string[] };
}

/** The error lines in gost's log (JSON lines at level error). */
function errorLines(stderr: string): { count: number; first: string[] } {
  const first: string[] = [];
  let count = 0;
  for (const line of stderr.split("\n")) {
    if (!line.includes('"level":"error"')) continue;
    count++;
    let msg = line;
    try {
      const j = JSON.parse(line);
      msg = `${j.service ?? ""}: ${j.msg ?? ""}${j.error ? ` (${j.error})` : ""}`;
    } catch { /* not JSON */ }
    if (first.length < 5 && !first.includes(msg)) first.push(msg);
  }
  return { count, first };
}

/** Descriptors the soak process and gost need for `cfg` (gost: two per forwarded connection). */
export function descriptorsNeeded(cfg: SoakConfig): number {
  return 2 * cfg.concurrent + 500;
}

/** Runs the probes of `cfg`; `progress` hears each probe's name as it starts. */
export async function runSoak(
  cfg: SoakConfig,
  progress: (m: string) => void = () => {},
): Promise<SoakReport> {
  const need = descriptorsNeeded(cfg);
  const { soft } = fdLimits();
  if (soft < need) {
    throw new Error(
      `the descriptor limit is ${soft}; this soak needs ${need}: run it as \`ulimit -n 20000; deno task soak\``,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "gost-soak-" });
  const rig = await startRig(dir);
  const pid = rig.server.child.pid;
  const results: ProbeResult[] = [];
  let exited: string | undefined;
  rig.server.status().then((s) => exited = `gost exited with code ${s.code}`);
  try {
    await sleep(500);
    const before = procStats(pid);
    const logStart = rig.server.stderr().length; // the rig's own start-up probes are not the soak's
    const sampler = peakSampler(pid);
    const only = Deno.env.get("SOAK_ONLY")?.split(",");
    const run = async (name: string, probe: () => Promise<ProbeResult | ProbeResult[]>) => {
      if (only && !only.includes(name)) return;
      progress(name);
      results.push(...[await probe()].flat());
      // Each probe starts on a settled gost: wait until the last one's sockets are closed.
      const end = Date.now() + 30_000;
      while (procStats(pid).fds > before.fds + 50 && Date.now() < end) await sleep(200);
    };
    await run(
      "concurrent tcp forward",
      () => concurrent("concurrent (tcp forward)", cfg.concurrent, () => dial(rig.forward)),
    );
    await run(
      "concurrent http proxy",
      () => concurrent("concurrent (http proxy)", cfg.concurrent, () => dialConnect(rig.http, rig.echoPort)),
    );
    await run("churn", () => churn(rig.forward, cfg.churn, cfg.churnConcurrency));
    await run("handshake flood", () => handshakeFlood(rig, cfg));
    await run("kcp flood", () => kcpFlood(rig, cfg));
    await run("slow clients", () => slowClients(rig, cfg));
    await run("peers killed", () => peersKilled(rig, cfg));
    progress(`settling ${cfg.settleSeconds} s`);
    await sleep(cfg.settleSeconds * 1000);
    sampler.stop();
    const after = procStats(pid);
    const gostErrors = errorLines(rig.server.stderr().slice(logStart));
    return {
      results,
      before,
      peak: sampler.peak,
      after,
      settleSeconds: cfg.settleSeconds,
      exited,
      gostErrors,
    };
  } finally {
    await rig.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The two lockouts that were found by this harness (the handshake queue of tls/ws listeners, KCP's
 * half-open sessions): until their fixes are merged, their probes report failures without
 * failing the run. Set each to true once its fix is in (or, for one run, set the env var
 * `SOAK_HANDSHAKE_QUEUE_FIXED=1` / `SOAK_KCP_HALF_OPEN_FIXED=1`).
 */
export const FIXED = { "handshake-queue": true, "kcp-half-open": true };

/** Whether the fix for a known lockout has been merged (then its probe must pass too). */
export function knownFixed(known: ProbeResult["known"]): boolean {
  if (!known) return true;
  const env = known === "handshake-queue" ? "SOAK_HANDSHAKE_QUEUE_FIXED" : "SOAK_KCP_HALF_OPEN_FIXED";
  return FIXED[known] || Deno.env.get(env) === "1";
}

/** The report as a Markdown table (the README's "Under load" section shows one). */
export function formatReport(r: SoakReport): string {
  const rows = [
    "| probe | load | hostile inputs | faults survived | legitimate ok | legitimate failed |",
    "|---|---|---:|---:|---:|---:|",
  ];
  for (const p of r.results) {
    const mark = p.failed && p.known && !knownFixed(p.known) ? ` (known: ${p.known} lockout)` : "";
    rows.push(
      `| ${p.probe} | ${p.load} | ${p.hostile} | ${p.faults} | ${p.ok} | ${p.failed}${mark} |`,
    );
  }
  rows.push("");
  rows.push(`| gost process | before | peak | ${r.settleSeconds} s after |`);
  rows.push("|---|---:|---:|---:|");
  rows.push(`| RSS (MiB) | ${r.before.rssMiB} | ${r.peak.rssMiB} | ${r.after.rssMiB} |`);
  rows.push(`| open descriptors | ${r.before.fds} | ${r.peak.fds} | ${r.after.fds} |`);
  const errs = r.results.filter((p) => p.errors.length).map((p) => `- ${p.probe}: ${p.errors.join("; ")}`);
  if (errs.length) rows.push("", "First errors:", ...errs);
  if (r.gostErrors.count) {
    rows.push(
      "",
      `gost logged ${r.gostErrors.count} errors, e.g.:`,
      ...r.gostErrors.first.map((m) => `- ${m}`),
    );
  }
  if (r.exited) rows.push("", `**${r.exited} during the soak**`);
  return rows.join("\n");
}

/** Legitimate failures that count: every probe's, but a known lockout's only once its fix is declared. */
export function countedFailures(r: SoakReport): number {
  return r.results.filter((p) => knownFixed(p.known)).reduce((n, p) => n + p.failed, 0) + (r.exited ? 1 : 0);
}
