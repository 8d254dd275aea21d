import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { sameBytes } from "../core/auth.ts";
import { rootLogger } from "../core/log.ts";
import { splitLines } from "../core/list_source.ts";
import { autherAt, authersOf, buildAuthers } from "./build.ts";
import { AutherGroup, parseAuthLines, StoreAuther } from "./auther.ts";
import type { ConfigError } from "../core/errors.ts";

const log = rootLogger.with({ test: "auther" });

Deno.test("auth file: user password lines, comments, blanks, tabs, passwords with spaces", () => {
  const users = parseAuthLines(splitLines(
    "# users of the proxy\n\nalice secret\r\nbob\t  two words  \n  # indented comment\ncarol\nbad#user pass#word\n",
  ));
  deepStrictEqual([...users], [
    ["alice", "secret"],
    ["bob", "two words"],
    ["carol", ""],
    ["bad#user", "pass#word"],
  ]);
});

Deno.test("auther: several users, unknown users, a user without password accepts any (as gost)", () => {
  const a = new StoreAuther("a", new Map([["alice", "s3cret"], ["bob", "pw"], ["open", ""]]));
  ok(a.check("alice", "s3cret"));
  ok(a.check("bob", "pw"));
  ok(!a.check("alice", "pw"));
  ok(!a.check("alice", "s3cret "));
  ok(!a.check("mallory", "s3cret"));
  ok(a.check("open", "anything"));
  ok(!new StoreAuther("empty", new Map()).check("", ""), "an auther without users accepts nobody");
  a.replace(new Map([["dave", "d"]]));
  ok(a.check("dave", "d") && !a.check("alice", "s3cret"), "a reload replaces the users");
  const g = new AutherGroup([
    new StoreAuther("x", new Map([["x", "1"]])),
    new StoreAuther("y", new Map([["y", "2"]])),
  ]);
  ok(g.check("x", "1") && g.check("y", "2") && !g.check("x", "2"));
  ok(!new AutherGroup([]).check("x", "1"));
});

Deno.test("constant-time compare: equal, different at any place, different lengths", () => {
  const e = new TextEncoder();
  ok(sameBytes(e.encode("password"), e.encode("password")));
  ok(!sameBytes(e.encode("Xassword"), e.encode("password")));
  ok(!sameBytes(e.encode("passworX"), e.encode("password")));
  ok(!sameBytes(e.encode("passwor"), e.encode("password")));
  ok(!sameBytes(e.encode("password1"), e.encode("password")));
  ok(!sameBytes(new Uint8Array(0), e.encode("p")));
  ok(sameBytes(new Uint8Array(0), new Uint8Array(0)));
});

Deno.test("authers section: inline and file users merged; bad input names its path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/users`, "# team\nbob pw2\n");
    const errors: ConfigError[] = [];
    const closers: (() => void)[] = [];
    const authers = buildAuthers(
      [
        {
          name: "a",
          auths: [{ username: "alice", password: "pw1" }, { password: "ignored" }],
          file: { path: `${dir}/users` },
        },
        { name: "b", file: { path: `${dir}/missing` } },
        { name: "c", redis: { addr: "127.0.0.1:6379" } },
        { name: "d", auths: "alice" },
        { name: "e", http: { url: "http://127.0.0.1/" }, plugin: { addr: "127.0.0.1:1" }, reload: "soon" },
      ],
      errors,
      log,
      closers,
    );
    const a = authers.get("a")!;
    ok(a.check("alice", "pw1") && a.check("bob", "pw2") && !a.check("", "ignored"));
    deepStrictEqual(errors.map((e) => e.path), [
      "authers[1].file.path",
      "authers[2].redis",
      "authers[3].auths",
      "authers[4].http",
      "authers[4].plugin",
      "authers[4].reload",
    ]);
    ok(errors[0].message.includes(`${dir}/missing`));
    const refErrors: ConfigError[] = [];
    strictEqual(autherAt({ type: "http" }, "services[0].handler", authers, refErrors), undefined);
    autherAt({ auther: "zz" }, "services[0].handler", authers, refErrors);
    strictEqual(refErrors[0].path, "services[0].handler.auther");
    ok(refErrors[0].message.includes(`auther "zz" does not exist (defined: a, b, c, d, e)`));
    ok(autherAt({ authers: ["a", "b"] }, "p", authers, []) instanceof AutherGroup);
    for (const close of closers) close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("authers on a handler or listener that checks no credentials are config errors", () => {
  const defined = new Map([["team", new StoreAuther("team", new Map([["a", "b"]]))]]);
  const errors: ConfigError[] = [];
  const ok1 = authersOf(
    { handler: { auther: "team" }, listener: {} },
    "services[0]",
    "socks5",
    "tcp",
    defined,
    errors,
  );
  ok(ok1.handler && !ok1.listener);
  authersOf(
    { handler: { auther: "team" }, listener: { auther: "team" } },
    "services[1]",
    "tcp",
    "tls",
    defined,
    errors,
  );
  const ssh = authersOf(
    { handler: {}, listener: { authers: ["team"] } },
    "services[2]",
    "sshd",
    "sshd",
    defined,
    errors,
  );
  ok(ssh.listener);
  deepStrictEqual(errors.map((e) => e.path), ["services[1].handler.auther", "services[1].listener.auther"]);
  ok(errors[0].message.includes("the tcp handler does not check user names and passwords"));
});
