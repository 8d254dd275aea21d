import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Config } from "../config/types.ts";
import { configureLog } from "../core/log.ts";
import { buildRuntime } from "../service/build.ts";

configureLog({ sink: () => {} });

const svc = (extra: Record<string, unknown>) => ({
  name: "s",
  addr: "127.0.0.1:0",
  handler: { type: "http" },
  listener: { type: "tcp" },
  ...extra,
});

async function errorsOf(config: unknown): Promise<string[]> {
  const { errors } = await buildRuntime(config as Config);
  return errors.map((e) => e.message);
}

Deno.test("limiter build: bad lines, unknown names, refused loaders and handler.limiter are errors with paths", async () => {
  const errs = await errorsOf({
    services: [
      svc({ limiter: "nope", climiter: "c", rlimiter: "r", handler: { type: "http", limiter: "l" } }),
    ],
    limiters: [
      { name: "l", limits: ["$ 1MB", "$ 100"] },
      { name: "l2", redis: { addr: "127.0.0.1:6379" }, plugin: { addr: "x" } },
    ],
    climiters: [{ name: "c", limits: ["$ 0"], http: { url: "http://x" } }],
    rlimiters: [{ name: "r", limits: "$ 1", reload: "soon" }, { limits: [] }],
  });
  const want = [
    /^limiters\[0\]\.limits\[1\]: invalid limit "\$ 100": input rate "100" is not a byte quantity/,
    /^limiters\[1\]\.redis: the redis loader is not supported; refusing to start/,
    /^limiters\[1\]\.plugin: the plugin loader is not supported/,
    /^climiters\[0\]\.http: the http loader is not supported/,
    /^climiters\[0\]\.limits\[0\]: invalid limit "\$ 0"/,
    /^rlimiters\[0\]\.limits: expected a list of limit lines/,
    /^rlimiters\[0\]\.reload: invalid duration "soon"/,
    /^rlimiters\[1\]\.name: a limiter needs a name/,
    /^services\[0\]\.limiter: limiters entry "nope" does not exist \(defined: l, l2\)/,
    /^services\[0\]\.handler\.limiter: gost applies a handler's limiter per authenticated client/,
  ];
  for (const re of want) ok(errs.some((e) => re.test(e)), `${re}\n${errs.join("\n")}`);
  equal(errs.length, want.length, errs.join("\n"));
});

Deno.test("limiter build: a limits file is read at start, its bad line named with its number", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/limits`;
    await Deno.writeTextFile(file, "# scope in out\n$ 1MB\n\n10.0.0.0/8 2MB 1mb\n");
    const errs = await errorsOf({
      services: [svc({ limiter: "l" })],
      limiters: [{ name: "l", file: { path: file } }],
    });
    deepStrictEqual(errs.length, 1);
    match(
      errs[0],
      new RegExp(
        `^limiters\\[0\\]\\.file\\.path: invalid limit "10.0.0.0/8 2MB 1mb": ${file} line 4: output rate "1mb"`,
      ),
    );
    const missing = await errorsOf({
      services: [svc({})],
      limiters: [{ name: "l", file: { path: `${dir}/none` } }],
    });
    match(missing[0], /^limiters\[0\]\.file\.path: .*No such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("limiter build: limiter.scope is checked; valid limiters build and pass", async () => {
  const bad = await errorsOf({
    services: [svc({ limiter: "l", metadata: { "limiter.scope": "client" } })],
    limiters: [{ name: "l", limits: ["$ 1MB"] }],
  });
  match(
    bad[0],
    /^services\[0\]\.metadata\.limiter\.scope: invalid value "client": expected one of: , service, conn/,
  );
  const { errors, runtime } = await buildRuntime({
    services: [svc({ limiter: "l", climiter: "c", rlimiter: "r", metadata: { "limiter.scope": "conn" } })],
    limiters: [{ name: "l", limits: ["$ 1MB 1MB", "$$ 100KB", "10.0.0.0/8 1KB"] }],
    climiters: [{ name: "c", limits: ["$ 100", "$$ 10"] }],
    rlimiters: [{ name: "r", limits: ["$ 50", "::1 0.5"] }],
  } as unknown as Config);
  deepStrictEqual(errors, []);
  equal(runtime!.warnings.length, 0, runtime!.warnings.join());
  ok(runtime!.services[0].policy.limits);
});

Deno.test("limiter build: the command line's keys in a config file's metadata limit nothing: an error", async () => {
  const errs = await errorsOf({
    services: [
      svc({ metadata: { "limiter.in": "1MB" }, listener: { type: "tcp", metadata: { climiter: "2" } } }),
    ],
  });
  deepStrictEqual(errs.map((e) => e.split(":")[0]), [
    "services[0].metadata.limiter.in",
    "services[0].listener.metadata.climiter",
  ]);
  match(errs[0], /gost reads it on the command line only.*use a limiters section and limiter: NAME/);
});

Deno.test("limiter build: a traffic limiter on an sshd listener is refused (climiter and rlimiter are not)", async () => {
  const errs = await errorsOf({
    services: [svc({ limiter: "l", climiter: "c", handler: { type: "sshd" }, listener: { type: "sshd" } })],
    limiters: [{ name: "l", limits: ["$ 1MB"] }],
    climiters: [{ name: "c", limits: ["$ 1"] }],
  });
  deepStrictEqual(errs.map((e) => e.split(":")[0]), ["services[0].limiter"]);
});
