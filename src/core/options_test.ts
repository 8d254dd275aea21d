import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { defineOptions, metadataWarnings, opt, unknownKeys } from "./options.ts";

const schema = defineOptions({
  keepAlive: opt.bool(["keepAlive", "keepalive"], false),
  ttl: opt.duration("ttl", 5000),
  size: opt.int(["readBufferSize", "udp.bufferSize"], 4096, { min: 512 }),
  mode: opt.oneOf("mode", "fast", ["normal", "fast"] as const),
  header: opt.map("header"),
});

Deno.test("typed defaults apply when keys are absent", () => {
  assert.deepEqual(schema.parse(undefined, "x"), {
    keepAlive: false,
    ttl: 5000,
    size: 4096,
    mode: "fast",
    header: {},
  });
});

Deno.test("strings from URLs and native YAML values both parse, keys case-insensitively", () => {
  const o = schema.parse({
    KEEPALIVE: "true",
    ttl: "1m",
    "udp.buffersize": "8192",
    mode: "Normal",
    header: "A:1,B: 2",
  }, "x");
  assert.deepEqual(o, {
    keepAlive: true,
    ttl: 60_000,
    size: 8192,
    mode: "normal",
    header: { A: "1", B: "2" },
  });
  assert.equal(schema.parse({ keepAlive: true, ttl: 3 }, "x").ttl, 3000);
});

Deno.test("a bad value names the key, the value and what was expected", () => {
  const e = assert.throws(
    () => schema.parse({ ttl: "5 parsecs" }, "services[0].listener.metadata"),
    ConfigError,
  );
  void e;
  try {
    schema.parse({ readBufferSize: "100" }, "svc.metadata");
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /svc\.metadata\.readBufferSize: invalid value "100": must be at least 512/);
  }
  assert.throws(
    () => schema.parse({ keepAlive: "maybe" }, "p"),
    /p\.keepAlive: invalid value "maybe": expected a boolean/,
  );
  assert.throws(() => schema.parse({ mode: "warp" }, "p"), /expected one of: normal, fast/);
});

Deno.test("unknown keys are reported", () => {
  assert.deepEqual(unknownKeys({ ttl: 1, bogus: 2 }, [schema]), ["bogus"]);
});

Deno.test("an ignored option takes any value and is a start-up warning saying why", () => {
  const s = defineOptions({
    mptcp: opt.ignored("mptcp", "no MPTCP here"),
    nodelay: opt.bool("nodelay", false),
  });
  assert.equal(s.parse({ MPTCP: "whatever" }, "x").mptcp, undefined);
  // Unknown keys per place; an ignored key once for the group (the CLI copies it everywhere).
  const md = { mptcp: true, nodelay: true, bogus: 1 };
  assert.deepEqual(metadataWarnings("svc", [[md, "handler.metadata"], [md, "metadata"]], [s]), [
    "svc.handler.metadata.bogus: unknown option, ignored",
    "svc.handler.metadata.mptcp: accepted for gost compatibility, no effect here: no MPTCP here",
    "svc.metadata.bogus: unknown option, ignored",
  ]);
  // A key another component of the same group gives effect to is not reported.
  const other = defineOptions({ mptcp: opt.bool("mptcp", false) });
  assert.deepEqual(metadataWarnings("p", [[{ mptcp: true }, "metadata"]], [s, other]), []);
});

Deno.test("parseAll reports every wrong value, each option keeping its default; parse throws the first", () => {
  const errors: ConfigError[] = [];
  const o = schema.parseAll(
    { ttl: "soon", mode: "warp", keepAlive: "yes", readBufferSize: 100 },
    "p",
    errors,
  );
  assert.deepEqual(errors.map((e) => e.path), ["p.ttl", "p.mode", "p.readBufferSize"]);
  assert.deepEqual([o.ttl, o.mode, o.keepAlive, o.size], [5000, "fast", true, 4096]);
  assert.throws(
    () => schema.parse({ ttl: "soon", mode: "warp" }, "p"),
    (e: ConfigError) => e.path === "p.ttl",
  );
});
