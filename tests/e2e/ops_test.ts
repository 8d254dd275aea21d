/**
 * What cron jobs and deploy scripts rely on: exit codes, `-C -`, `-O` as a config check, the
 * `log` section (level, format, output to stdout/none/a file, reopened on SIGHUP), and the
 * permission model (log files only where write permission was granted).
 */
import { equal, match, ok } from "node:assert/strict";
import { GOST_PERMISSIONS } from "../../scripts/permissions.ts";
import {
  decoder,
  forwardServiceYaml,
  freePort,
  MAIN,
  retry,
  ROOT,
  runGost,
  spawnGost,
  spawnProcess,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  waitUntil,
} from "../_helpers.ts";

const FORWARD = (port: number, target: number, extra = "") =>
  `services:
${forwardServiceYaml("fwd", port, target)}${extra}`;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function roundTripOk(port: number): Promise<void> {
  const data = new TextEncoder().encode("hello through gost");
  equal(decoder.decode(await tcpRoundTrip(port, data)), "hello through gost");
}

Deno.test("exit 0: SIGTERM stops cleanly", async () => {
  const g = await startGost(["-L", `tcp://127.0.0.1:${freePort()}/127.0.0.1:9`]);
  equal(await g.stop(), 0);
  match(g.stderr(), /"msg":"stopping"/);
});

Deno.test("exit 1: an invalid config names the problem and its line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      path,
      FORWARD(freePort(), 9).replace("type: tcp\n    listener", "type: htp\n    listener"),
    );
    const r = await runGost(["-C", path]);
    equal(r.code, 1, r.stderr);
    match(r.stderr, /line 5: services\[0\]\.handler\.type: unknown handler type "htp"/);
  });
});

Deno.test("exit 2: bad usage", async () => {
  const r = await runGost(["-nosuchflag"]);
  equal(r.code, 2);
  match(r.stderr, /flag provided but not defined: -nosuchflag/);
});

Deno.test("exit 3: a listen address that cannot be bound is named", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    const r = await runGost(["-L", `tcp://127.0.0.1:${port}/127.0.0.1:9`]);
    equal(r.code, 3, r.stderr);
    match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  } finally {
    holder.close();
  }
});

Deno.test("-C - runs the config read from standard input", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  const g = spawnGost(["-C", "-"], { stdin: FORWARD(port, echo.port) });
  try {
    await g.waitFor("listening on");
    await roundTripOk(port);
  } finally {
    equal(await g.stop(), 0);
    echo.close();
  }
});

Deno.test({
  name: "-C -: SIGHUP cannot read standard input again, says so and keeps serving",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const echo = tcpEchoServer();
    const port = freePort();
    const g = spawnGost(["-C", "-"], { stdin: FORWARD(port, echo.port) });
    try {
      await g.waitFor("listening on");
      g.child.kill("SIGHUP");
      await g.waitFor(/standard input, which cannot be read again; nothing changed/);
      await roundTripOk(port);
    } finally {
      equal(await g.stop(), 0);
      echo.close();
    }
  },
});

Deno.test("-O with -C checks the config without starting it: normalised output, or exit 1", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    const path = `${dir}/gost.yaml`;
    // Keys in another case and order: the output is gost's spelling and order.
    await Deno.writeTextFile(
      path,
      `Services:\n  - Addr: 127.0.0.1:${port}\n    Name: a\n    Forwarder:\n      Nodes:\n        - Addr: 127.0.0.1:9\n` +
        `    Handler:\n      Type: tcp\nLog:\n  Level: debug\n  Format: text\n`,
    );
    const y = await runGost(["-C", path, "-O", "yaml"]);
    equal(y.code, 0, y.stderr);
    match(y.stdout, /^services:\n {2}- name: a\n {4}addr: 127\.0\.0\.1:\d+\n {4}handler:\n {6}type: tcp/);
    match(y.stdout, /log:\n {2}level: debug\n {2}format: text/);
    const j = await runGost(["-C", path, "-O", "json"]);
    equal(j.code, 0, j.stderr);
    equal(JSON.parse(j.stdout).services[0].forwarder.nodes[0].addr, "127.0.0.1:9");
    // Nothing was started: the port is still free.
    Deno.listen({ hostname: "127.0.0.1", port }).close();

    await Deno.writeTextFile(
      path,
      `services:\n  - name: a\n    addr: 127.0.0.1:${port}\n    handler:\n      type: nope\n`,
    );
    const bad = await runGost(["-C", path, "-O", "yaml"]);
    equal(bad.code, 1);
    equal(bad.stdout, "");
    match(bad.stderr, /line 5: services\[0\]\.handler\.type: unknown handler type "nope"/);
  });
});

Deno.test("log: format text to stdout at debug level; output none is silent", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  try {
    const g = spawnGost(["-C", "-"], {
      stdin: FORWARD(port, echo.port, "log:\n  level: debug\n  format: text\n  output: stdout\n"),
    }) as ReturnType<typeof spawnGost> & { stdout: string };
    await waitUntil(
      () => /listening on/.test(g.stdout),
      () => `a listening line on stdout: ${g.stdout} / ${g.stderr()}`,
      10_000,
    );
    await roundTripOk(port);
    equal(await g.stop(), 0);
    match(g.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z info listening on 127\.0\.0\.1:\d+ kind=service service=fwd/m);
    match(g.stdout, /info 127\.0\.0\.1:\d+ >< 127\.0\.0\.1:\d+ .*inputBytes=18 outputBytes=18/);
    equal(g.stderr(), "");

    const port2 = freePort();
    const quiet = spawnGost(["-C", "-"], { stdin: FORWARD(port2, echo.port, "log:\n  output: none\n") });
    await retry(() => roundTripOk(port2), 10_000, 100);
    equal(await quiet.stop(), 0);
    equal(quiet.stderr(), "");
  } finally {
    echo.close();
  }
});

Deno.test("log: bad level, format or unwritable file is an invalid config naming log.<key>", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/gost.yaml`;
    await Deno.writeTextFile(path, FORWARD(freePort(), 9, "log:\n  level: loud\n  format: xml\n"));
    const r = await runGost(["-C", path]);
    equal(r.code, 1);
    match(r.stderr, /line 13: log\.level: unknown level "loud"/);
    match(r.stderr, /line 14: log\.format: unknown format "xml" \(allowed: json, text\)/);
    // The shipped permissions allow log files only under /var/log/gost.
    await Deno.writeTextFile(path, FORWARD(freePort(), 9, `log:\n  output: ${dir}/gost.log\n`));
    const w = await runGost(["-C", path]);
    equal(w.code, 1);
    match(w.stderr, /log\.output: cannot write the log file .*only under \/var\/log\/gost\//);
  });
});

/** Runs gost from source with the shipped permissions plus write access to `dir`. */
function spawnWithWrite(dir: string, args: string[]) {
  const permissions = GOST_PERMISSIONS.filter((p) => !p.startsWith("--allow-write"));
  return spawnProcess(
    Deno.execPath(),
    ["run", ...permissions, `--allow-write=${dir}`, MAIN, ...args],
    {},
    "gost",
  );
}

async function waitForFile(path: string, re: RegExp, ms = 10_000): Promise<string> {
  let text = "";
  await waitUntil(
    async () => re.test(text = await Deno.readTextFile(path).catch(() => "")),
    () => `${path} to match ${re}; it holds:\n${text}`,
    ms,
  );
  return text;
}

Deno.test({
  name: "log: output to a file (where write is granted) is appended, and SIGHUP reopens it after rotation",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withDir(async (dir) => {
      const echo = tcpEchoServer();
      const port = freePort();
      const log = `${dir}/gost.log`;
      const path = `${dir}/gost.yaml`;
      await Deno.writeTextFile(path, FORWARD(port, echo.port, `log:\n  output: ${log}\n`));
      const g = spawnWithWrite(dir, ["-C", path]);
      try {
        await waitForFile(log, /"msg":"listening on 127\.0\.0\.1:\d+"/);
        await roundTripOk(port);
        await waitForFile(log, /"inputBytes":18/);
        // logrotate: move the file away, then SIGHUP
        await Deno.rename(log, `${log}.1`);
        g.child.kill("SIGHUP");
        const fresh = await waitForFile(log, /reload: 1 kept, 0 replaced, 0 added, 0 removed/);
        ok(!fresh.includes("listening on"), "the new file starts empty");
        await roundTripOk(port);
        await waitForFile(log, /"inputBytes":18/);
        const old = await Deno.readTextFile(`${log}.1`);
        equal(old.split("\n").filter((l) => l.includes('"inputBytes":18')).length, 1);
      } finally {
        equal(await g.stop(), 0);
        equal(g.stderr(), "");
        echo.close();
      }
    });
  },
});

Deno.test("log: GOST_LOGGER_LEVEL changes the level and keeps the section's format", async () => {
  const port = freePort();
  const g = spawnGost(["-C", "-"], {
    stdin: FORWARD(port, 9, "log:\n  format: text\n"),
    env: { GOST_LOGGER_LEVEL: "warn" },
  });
  try {
    // At warn, "listening on" is not logged: wait for the port instead, then send a
    // connection to the dead target (port 9), which gost must log as a failure.
    const conn = await retry(() => Deno.connect({ hostname: "127.0.0.1", port }));
    await conn.write(new Uint8Array([1])).catch(() => 0);
    equal(await conn.read(new Uint8Array(8)).catch(() => null), null);
    conn.close();
    await g.waitFor(/ (error|warn) /);
  } finally {
    equal(await g.stop(), 0);
  }
  const lines = g.stderr().trim().split("\n");
  ok(lines.length > 0);
  for (const l of lines) match(l, /^\d{4}-\S+Z (error|warn) /, "text lines at warn and above only");
});

Deno.test("README: the table of component types matches the registries; the flags match the usage text", async () => {
  const { handlers } = await import("../../src/handler/mod.ts");
  const { listeners } = await import("../../src/listener/mod.ts");
  const { connectors } = await import("../../src/connector/mod.ts");
  const { dialers } = await import("../../src/dialer/mod.ts");
  const { USAGE } = await import("../../src/cli/flags.ts");
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.split("## Supported flags and URL schemes")[1]?.split("\n## ")[0] ?? "";
  ok(section, "README has the section");
  const row = (kind: string) => {
    const m = new RegExp(`^\\| ${kind}\\s*\\| (.*?)\\s*\\|$`, "m").exec(section);
    ok(m, `README has a ${kind} row`);
    return [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1]).sort();
  };
  equal(row("handlers").join(" "), handlers.names().join(" "));
  equal(row("listeners").join(" "), listeners.names().join(" "));
  equal(row("connectors").join(" "), connectors.names().join(" "));
  equal(row("dialers").join(" "), dialers.names().join(" "));
  for (const m of section.matchAll(/^\| `(-[A-Za-z]+)/gm)) {
    ok(USAGE.includes(m[1]), `${m[1]} is in the usage text`);
  }
});
