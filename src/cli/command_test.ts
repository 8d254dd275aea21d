import { deepStrictEqual, equal, match } from "node:assert/strict";
import { parseCommandLine } from "./command.ts";

async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "gost-cmd-" });
  try {
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("command: -C files then -L/-F merge in order, lines kept per file", async () => {
  await withFiles({
    "a.yaml": "services:\n  - name: a\n    addr: :1\nlog:\n  level: warn\n",
    "b.json": '{"services": [{"name": "b", "addr": ":2"}], "chains": [{"name": "c", "hops": []}]}',
  }, async (dir) => {
    const cmd = await parseCommandLine([
      "-C",
      `${dir}/a.yaml`,
      "-C",
      `${dir}/b.json`,
      "-L",
      "http://:3",
      "-F",
      "relay://h:1",
    ]);
    if (cmd.kind !== "run") throw new Error(`unexpected ${cmd.kind}`);
    deepStrictEqual(cmd.config.services!.map((s) => s.name), ["a", "b", "service-0"]);
    deepStrictEqual(cmd.config.chains!.map((c) => c.name), ["c", "chain-0"]);
    equal(cmd.config.services![2].handler.chain, "chain-0");
    equal(cmd.config.log?.level, "warn");
    deepStrictEqual(cmd.sources.get("services[1].addr"), { source: `${dir}/b.json`, line: 1 });
    deepStrictEqual(cmd.sources.get("services[2]"), { source: "-L" });
  });
});

Deno.test("command: -D / -DD set the log level, as gost writes it into the config", async () => {
  const d = await parseCommandLine(["-L", ":1", "-D"]);
  equal(d.kind === "run" && d.debug === 1 && d.config.log?.level, "debug");
  const dd = await parseCommandLine(["-L", ":1", "-DD"]);
  equal(dd.kind === "run" && dd.config.log?.level, "trace");
});

Deno.test("command: usage, version and help", async () => {
  deepStrictEqual(await parseCommandLine(["-V"]), { kind: "version" });
  deepStrictEqual(await parseCommandLine(["-help"]), { kind: "usage" });
  const bad = await parseCommandLine(["-Q"]);
  equal(bad.kind, "usage");
  match((bad as { error: string }).error, /-Q/);
  const only = await parseCommandLine(["-F", "relay://h:1"]);
  match((only as { error: string }).error, /-F needs at least one -L/);
});

Deno.test("command: warnings for -api, -metrics, -R and unknown schemes", async () => {
  const cmd = await parseCommandLine(["-L", "bogus://:1", "-metrics", ":9000"]);
  if (cmd.kind !== "run") throw new Error(`unexpected ${cmd.kind}`);
  equal(cmd.warnings.length, 2);
  match(cmd.warnings.join("\n"), /-metrics :9000: .*not supported yet/);
  match(cmd.warnings.join("\n"), /"bogus" names no known handler or listener/);
});
