/**
 * `deno task compile`: one self-contained `gost` executable per target in `dist/`, named by
 * target (`dist/gost-x86_64-unknown-linux-gnu`, `dist/gost-x86_64-pc-windows-msvc.exe`), with
 * the permissions of `scripts/permissions.ts` baked in. Works from any directory.
 *
 *   deno task compile                      # every target
 *   deno task compile --host               # only the machine's own target
 *   deno task compile --target=aarch64-unknown-linux-gnu [--target=…] [--out-dir=dir]
 *
 * `deno compile` needs Deno's `denort` runtime for each target: it downloads it from Deno's
 * servers, or takes the file `DENORT_BIN` names (used here for the host target only, since it
 * is one binary for one platform). When a runtime cannot be had the script says so in one line
 * per target and exits 1. The host binary is run with `-V` after building, which also catches a
 * `DENORT_BIN` that is not a denort (a full `deno` binary ignores the embedded program).
 * @module
 */
import { GOST_PERMISSIONS, V8_FLAGS } from "./permissions.ts";

/** The targets `deno compile` supports that gost ships for. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const WORKER = new URL("../src/service/worker.ts", import.meta.url).pathname;

/** The output file for `target` in `dir`. */
export function binaryName(target: string, dir = `${ROOT}dist`): string {
  return `${dir}/gost-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** What happened to one target. */
export interface Built {
  target: string;
  ok: boolean;
  /** The output path when ok; otherwise the one-line reason. */
  detail: string;
}

/** Does `deno compile`'s error text say the runtime could not be had? */
function runtimeMissing(stderr: string): boolean {
  return /denort|Setting up base binary|error sending request|dns error|failed to lookup address/i.test(
    stderr,
  );
}

/** The innermost cause in `deno compile`'s error text, shortened to one line. */
function cause(stderr: string): string {
  const lines = stderr.split("Stack backtrace")[0].split("\n").map((l) => l.trim()).filter((l) =>
    /^\d+: /.test(l)
  );
  const last = (lines.at(-1) ?? stderr.trim().split("\n")[0] ?? "").replace(/^\d+: /, "");
  const inner = /dns error: (.*)$/.exec(last)?.[1] ?? last.replace(/\(https?:[^)]*\)/g, "");
  return inner.slice(0, 120);
}

/** Compiles one target. `denortBin` is passed as DENORT_BIN (host target only). */
export async function compileTarget(target: string, outDir: string, denortBin?: string): Promise<Built> {
  const output = binaryName(target, outDir);
  // DENORT_BIN from our own environment must not be used for another platform's binary.
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  env.NO_COLOR = "1";
  if (denortBin) env.DENORT_BIN = denortBin;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--quiet",
      "--no-check",
      `--config=${ROOT}deno.json`,
      ...V8_FLAGS,
      ...GOST_PERMISSIONS,
      `--target=${target}`,
      `--output=${output}`,
      // Worker threads (src/service/workers.ts) load this module by URL: deno compile embeds it only when told.
      `--include=${WORKER}`,
      MAIN,
    ],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    if (runtimeMissing(stderr)) {
      return {
        target,
        ok: false,
        detail: `cannot get Deno's denort runtime for ${target} (${
          denortBin
            ? `DENORT_BIN=${denortBin} did not work`
            : "deno compile downloads it from Deno's servers"
        }: ${cause(stderr)}); set DENORT_BIN=/path/to/denort for the host target, ` +
          `or compile where Deno's servers are reachable`,
      };
    }
    return {
      target,
      ok: false,
      detail: `deno compile failed for ${target}: ${stderr.trim().split("\n")[0]}`,
    };
  }
  return { target, ok: true, detail: output };
}

/** Runs a freshly built host binary with `-V`; returns why it is not a working gost, if it is not. */
export async function verifyHostBinary(path: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(path, { args: ["-V"], stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.success && /^gost \S+ \(deno .*compiled binary\)/.test(text)) return undefined;
    return `the built binary does not run gost (-V printed ${JSON.stringify(text.trim().slice(0, 60))}); ` +
      `is DENORT_BIN a denort runtime rather than a full deno?`;
  } catch (err) {
    return `the built binary cannot run: ${(err as Error).message}`;
  }
}

async function main(args: string[]): Promise<number> {
  let outDir = `${ROOT}dist`;
  const targets: string[] = [];
  for (const a of args) {
    if (a === "--host") targets.push(Deno.build.target);
    else if (a.startsWith("--target=")) targets.push(a.slice("--target=".length));
    else if (a.startsWith("--out-dir=")) outDir = a.slice("--out-dir=".length);
    else {
      console.error(`compile: unknown argument ${a} (use --host, --target=<triple>, --out-dir=<dir>)`);
      return 2;
    }
  }
  if (!targets.length) targets.push(...TARGETS);
  for (const t of targets) {
    if (!(TARGETS as readonly string[]).includes(t)) {
      console.error(`compile: unsupported target ${t} (supported: ${TARGETS.join(", ")})`);
      return 2;
    }
  }
  await Deno.mkdir(outDir, { recursive: true });
  const denort = Deno.env.get("DENORT_BIN") || undefined;
  let failed = 0;
  for (const target of targets) {
    const host = target === Deno.build.target;
    const built = await compileTarget(target, outDir, host ? denort : undefined);
    if (built.ok && host) {
      const problem = await verifyHostBinary(built.detail);
      if (problem) {
        await Deno.remove(built.detail).catch(() => {});
        built.ok = false;
        built.detail = `${target}: ${problem}`;
      }
    }
    if (built.ok) console.log(`compile: ${target} → ${built.detail}`);
    else {
      failed++;
      console.error(`compile: ${built.detail}`);
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
