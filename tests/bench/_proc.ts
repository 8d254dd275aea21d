/**
 * What the benchmarks read about and do to the processes they start: resident memory and
 * CPU time from /proc, and stopping with a grace period before SIGKILL.
 * @module
 */

/** A `kB` field of `pid`'s /proc status in KiB, or undefined when it is gone (or /proc is missing). */
function statusKB(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in KiB, or undefined when it is gone (or /proc is missing). */
export function rssKB(pid: number): number | undefined {
  return statusKB(pid, "VmRSS");
}

/**
 * Anonymous resident memory of `pid` in KiB (RssAnon: heaps, buffers, stacks — what cannot be
 * paged back to a file), or undefined when it is gone. The rest of RSS is mapped files, mostly
 * the executable, shared by every process running it and evictable under memory pressure.
 */
export function anonKB(pid: number): number | undefined {
  return statusKB(pid, "RssAnon");
}

/** CPU time (user + system) of `pid` in clock ticks (1/100 s), or undefined when it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/**
 * CPU time of `pid`'s live threads in nanoseconds (from each /proc/<pid>/task/<tid>/schedstat),
 * or undefined when it is gone: finer than {@link cpuTicks}, for measuring a start-up.
 */
export function cpuNs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns;
  } catch {
    return undefined;
  }
}

/** Sum of `measure` over `pids`, counting gone processes as 0. */
export function total(pids: number[], measure: (pid: number) => number | undefined): number {
  return pids.reduce((sum, pid) => sum + (measure(pid) ?? 0), 0);
}

/** Sends `signal` to every child, SIGKILL to those still running after `graceMs`, and waits for all. */
export async function stopProcesses(
  children: Deno.ChildProcess[],
  signal: Deno.Signal = "SIGTERM",
  graceMs = 3000,
): Promise<void> {
  const send = (sig: Deno.Signal) => {
    for (const c of children) {
      try {
        c.kill(sig);
      } catch { /* exited */ }
    }
  };
  send(signal);
  const t = setTimeout(() => send("SIGKILL"), graceMs);
  await Promise.all(children.map((c) => c.status));
  clearTimeout(t);
}
