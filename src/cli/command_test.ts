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

Deno.test("command: warnings for -R and unknown schemes", async () => {
  const cmd = await parseCommandLine(["-L", "bogus://:1", "-R", "10s"]);
  if (cmd.kind !== "run") throw new Error(`unexpected ${cmd.kind}`);
  equal(cmd.warnings.length, 2);
  match(cmd.warnings.join("\n"), /-R 10s: .*not supported yet/);
  match(cmd.warnings.join("\n"), /"bogus" names no known handler or listener/);
});

Deno.test("command: -api and -metrics become the api: and metrics: sections, as gost maps them", async () => {
  const cmd = await parseCommandLine([
    "-L",
    "tcp://:1/h:2",
    "-metrics",
    "u:p@:9000?path=/m",
    "-api",
    "a%40b:c:d@127.0.0.1:18080?pathPrefix=/gost&accesslog=true",
  ]);
  if (cmd.kind !== "run") throw new Error(`unexpected ${cmd.kind}`);
  deepStrictEqual(cmd.config.metrics, { addr: ":9000", auth: { username: "u", password: "p" }, path: "/m" });
  deepStrictEqual(cmd.config.api, {
    addr: "127.0.0.1:18080",
    auth: { username: "a@b", password: "c:d" },
    pathPrefix: "/gost",
    accesslog: true,
  } as unknown);
  deepStrictEqual(cmd.warnings, []);
});

Deno.test("command: -api alone is a program configured through the API", async () => {
  const cmd = await parseCommandLine(["-api", ":18080"]);
  if (cmd.kind !== "run") throw new Error(`unexpected ${cmd.kind}`);
  deepStrictEqual(cmd.config.api, { addr: ":18080" });
  deepStrictEqual(cmd.config.services, undefined);
});
