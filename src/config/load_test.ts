import { deepStrictEqual, equal, match, rejects } from "node:assert/strict";
import { ConfigError } from "../core/errors.ts";
import {
  ConfigLoadError,
  formatConfigErrors,
  locate,
  mergeConfigs,
  parseConfigText,
  withLine,
} from "./load.ts";

const YAML = `# comment
services:
  - name: a
    addr: ":8080"
    handler:
      type: htp
      metadata:
        readTimeout: 5x
    listener:
      type: tcp
  - name: b
    addr: ":8081"
    Handler: {Type: http, Chain: c1}
    listener:
      type: tcp
chains:
  - name: c1
    hops:
      - name: h0
        nodes:
          - name: n0
            addr: 127.0.0.1:1080
            connector:
              type: socks5
`;

Deno.test("load: every config path knows its line", async () => {
  const { sources } = await parseConfigText(YAML, "x.yaml");
  const line = (p: string) => sources.get(p)?.line;
  equal(line("services"), 2);
  equal(line("services[0]"), 3);
  equal(line("services[0].handler.type"), 6);
  equal(line("services[0].handler.metadata.readTimeout"), 8);
  equal(line("services[1]"), 11);
  equal(line("services[1].handler"), 13);
  equal(line("services[1].handler.chain"), 13);
  equal(line("chains[0].hops[0].nodes[0].connector.type"), 24);
  equal(sources.get("services[0].handler.type")?.source, "x.yaml");
});

Deno.test("load: keys of known sections are matched in any case and respelt as gost's", async () => {
  const { config } = await parseConfigText(YAML, "x.yaml");
  deepStrictEqual(config.services![1].handler, { type: "http", chain: "c1" });
  // metadata keys are kept as written
  deepStrictEqual(config.services![0].handler.metadata, { readTimeout: "5x" });
});

Deno.test("load: JSON is YAML", async () => {
  const { config, sources } = await parseConfigText(
    '{\n"services": [\n {"name": "a", "addr": ":1"}\n]\n}',
    "x.json",
  );
  equal(config.services![0].addr, ":1");
  equal(sources.get("services[0].addr")?.line, 3);
});

Deno.test("load: malformed YAML names the line", async () => {
  await rejects(
    () => parseConfigText("services:\n  - name: a\n   addr: :80\n", "bad.yaml"),
    (e: Error) => e instanceof ConfigLoadError && /^bad\.yaml: line 3: malformed YAML: /.test(e.message),
  );
  await rejects(() => parseConfigText("a: [1, 2\n", "bad.yaml"), /malformed YAML/);
  await rejects(
    () => parseConfigText("a: 1\na: 2\n", "dup.yaml"),
    /line \d: malformed YAML: duplicated mapping key/,
  );
  await rejects(() => parseConfigText("- a\n- b\n", "list.yaml"), /must be a mapping.*got a list/);
});

Deno.test("load: an empty document is an empty config", async () => {
  deepStrictEqual((await parseConfigText("", "e.yaml")).config, {});
  deepStrictEqual((await parseConfigText("# nothing\n", "e.yaml")).config, {});
});

Deno.test("load: merging appends lists and renumbers their paths", async () => {
  const a = await parseConfigText("services:\n  - name: a\n    addr: :1\nlog:\n  level: info\n", "a.yaml");
  const b = await parseConfigText("services:\n  - name: b\n    addr: :2\nlog:\n  level: debug\n", "b.yaml");
  const m = mergeConfigs([a, b]);
  deepStrictEqual(m.config.services!.map((s) => s.name), ["a", "b"]);
  equal(m.config.log?.level, "debug");
  deepStrictEqual(m.sources.get("services[1].addr"), { source: "b.yaml", line: 3 });
  deepStrictEqual(m.sources.get("log.level"), { source: "b.yaml", line: 5 });
});

Deno.test("load: locate falls back to the nearest enclosing path", async () => {
  const { sources } = await parseConfigText(YAML, "x.yaml");
  equal(locate(sources, "services[0].forwarder")?.line, 3);
  equal(locate(sources, "services[0].handler.metadata.readTimeout")?.line, 8);
  equal(locate(sources, "nothing.here"), undefined);
});

Deno.test("load: formatConfigErrors puts the line first", async () => {
  const { sources } = await parseConfigText(YAML, "x.yaml");
  const text = formatConfigErrors([
    new ConfigError("services[0].handler.type", 'unknown handler type "htp"'),
    new ConfigError("services[9]", "no such"),
  ], sources);
  const lines = text.split("\n");
  equal(lines[0], 'line 6: services[0].handler.type: unknown handler type "htp"');
  match(lines[1], /^line 2: services\[9\]: no such$/);
});

Deno.test("load: withLine prefixes the line of a message that starts with a path", async () => {
  const { sources } = await parseConfigText(YAML, "x.yaml");
  equal(
    withLine("services[0].handler.metadata.readTimeout: unknown option", sources),
    "line 8: services[0].handler.metadata.readTimeout: unknown option",
  );
  equal(withLine("something else", sources), "something else");
});
