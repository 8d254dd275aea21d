/**
 * Runs the whole test suite (`deno test`) and ends with one line `tests: N passed, M failed`
 * for CI. Extra arguments are passed to `deno test` (e.g. a file or `--filter`).
 * @module
 */
const args = Deno.args.length ? Deno.args : ["src/", "tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--no-check=remote", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
}).spawn();

const decoder = new TextDecoder();
let tail = "";
for await (const chunk of child.stdout) {
  const text = decoder.decode(chunk);
  await Deno.stdout.write(chunk);
  tail = (tail + text).slice(-4000);
}
const status = await child.status;
// deno prints e.g. "ok | 12 passed (3 steps) | 0 failed (1s)" or "FAILED | 10 passed | 2 failed".
const m = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(tail);
const passed = m ? Number(m[1]) : 0;
let failed = m ? Number(m[2]) : 0;
if (!m || (status.code !== 0 && failed === 0)) failed = Math.max(failed, 1);
console.log(`tests: ${passed} passed, ${failed} failed`);
Deno.exit(status.code !== 0 || failed > 0 ? 1 : 0);
