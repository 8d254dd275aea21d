/**
 * `deno task compile`: the permission set is the one `deno task gost` uses; without Deno's
 * denort runtime the task says so in one line and exits 1; with one (DENORT_BIN, or Deno's
 * servers reachable) the host binary is built and runs `-V` and a TCP forward from a directory
 * far from the source tree. Skipped with a message when no runtime can be had.
 */
import { equal, match, ok } from "node:assert/strict";
import { binaryName } from "../../scripts/compile.ts";
import { GOST_PERMISSIONS, SOURCE_RUN_FLAGS, V8_FLAGS } from "../../scripts/permissions.ts";
import { decoder, freePort, retry, ROOT, spawnProcess, tcpEchoServer, tcpRoundTrip } from "../_helpers.ts";

const COMPILE = new URL("../../scripts/compile.ts", import.meta.url).pathname;

async function compile(args: string[], env: Record<string, string | undefined> = {}) {
  const base = Deno.env.toObject();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", "--allow-write", "--allow-env", COMPILE, ...args],
    cwd: "/",
    env: base,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("permissions: deno task gost runs with exactly the shipped permission set (and lazy module loading)", async () => {
  const cfg = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task: string = cfg.tasks.gost;
  const flags = task.split(/\s+/).filter((w) => w.startsWith("--"));
  equal(flags.join(" "), [...SOURCE_RUN_FLAGS, ...V8_FLAGS, ...GOST_PERMISSIONS].join(" "));
  ok(!/--allow-all|-A\b|--allow-run|--allow-ffi(?!=\/)|--allow-sys/.test(task));
  // FFI only for named library files, each an absolute path to a libcrypto, libssl or libc.
  const ffi = /--allow-ffi=(\S+)/.exec(task)![1].split(",");
  ok(ffi.every((p) => /^\/[\w/.-]*\/(libcrypto|libssl|libc|ld-musl-[\w]+)\.[\w.]+$/.test(p)), ffi.join(","));
});

Deno.test("permissions: the README's deno install line uses the same flags as deno task gost", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const line = /deno install -g [^`]*src\/main\.ts/.exec(readme.replaceAll("\\\n", " "))?.[0];
  ok(line, "README has a deno install line");
  const flags = line.split(/\s+/).filter((w) => w.startsWith("--"));
  equal(flags.join(" "), [...SOURCE_RUN_FLAGS, ...V8_FLAGS, ...GOST_PERMISSIONS].join(" "));
});

Deno.test("compile: unknown targets are refused; an unreachable runtime is one clear line and exit 1", async () => {
  const bad = await compile(["--target=mips-unknown-linux-gnu"]);
  equal(bad.code, 2);
  match(bad.stderr, /unsupported target mips-unknown-linux-gnu \(supported: x86_64-unknown-linux-gnu, /);

  const dir = await Deno.makeTempDir();
  try {
    const target = Deno.build.os === "darwin" ? "x86_64-unknown-linux-gnu" : "x86_64-apple-darwin";
    const r = await compile([`--target=${target}`, `--out-dir=${dir}`], { DENORT_BIN: undefined });
    if (r.code === 0) {
      // Deno's servers were reachable: the binary must be there.
      ok((await Deno.stat(binaryName(target, dir))).size > 1_000_000);
    } else {
      equal(r.code, 1);
      const lines = r.stderr.trim().split("\n");
      equal(lines.length, 1, r.stderr);
      match(
        lines[0],
        new RegExp(`^compile: cannot get Deno's denort runtime for ${target} \\(.*\\); set DENORT_BIN=`),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile: a DENORT_BIN that is a full deno (not denort) is caught by running the result", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await compile(["--host", `--out-dir=${dir}`], { DENORT_BIN: Deno.execPath() });
    equal(r.code, 1, r.stdout + r.stderr);
    match(r.stderr, /does not run gost \(-V printed "deno [\d.]+"\); is DENORT_BIN a denort runtime/);
    equal([...Deno.readDirSync(dir)].length, 0, "the unusable binary is removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Probe once: can this machine build its own binary?
const outDir = await Deno.makeTempDir({ prefix: "gost-compile-" });
const probe = await compile(["--host", `--out-dir=${outDir}`]);
const hostBinary = probe.code === 0 ? binaryName(Deno.build.target, outDir) : undefined;
if (!hostBinary) {
  console.warn(
    `SKIP compile: host binary tests — no denort runtime here (${
      probe.stderr.trim().split("\n")[0]
    }); set DENORT_BIN=/path/to/denort to run them`,
  );
  await Deno.remove(outDir, { recursive: true });
}

Deno.test({
  name: "compiled binary: -V prints the version with its target; a TCP forward works from any directory",
  ignore: !hostBinary,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      const v = await new Deno.Command(hostBinary!, { args: ["-V"], cwd: "/", stdout: "piped" }).output();
      equal(v.code, 0);
      match(
        decoder.decode(v.stdout),
        new RegExp(`^gost \\d+\\.\\d+\\.\\d+ \\(deno [\\d.]+ ${Deno.build.target}, compiled binary\\)`),
      );

      const echo = tcpEchoServer();
      const port = freePort();
      const g = spawnProcess(hostBinary!, ["-L", `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}`], {
        cwd: "/",
      });
      try {
        const data = new TextEncoder().encode("through the compiled gost");
        await retry(
          async () => {
            equal(decoder.decode(await tcpRoundTrip(port, data)), "through the compiled gost");
          },
          10_000,
          100,
        );
      } finally {
        equal(await g.stop(), 0);
        echo.close();
      }
      match(g.stderr(), /"msg":"listening on 127\.0\.0\.1:\d+"/);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
