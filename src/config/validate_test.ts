import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { validateConfig } from "./validate.ts";

const problems = (doc: unknown) => validateConfig(doc).errors.map((e) => e.message);

Deno.test("validate: a document that is not a mapping gives one error and no config", () => {
  for (const doc of [5, [], null, "x"]) {
    const v = validateConfig(doc);
    equal(v.config, undefined);
    deepStrictEqual(v.errors.map((e) => e.message), [
      "the config must be a mapping with services and chains",
    ]);
  }
});

Deno.test("validate: defaults are filled and every part carries its path", () => {
  const { config, errors, warnings } = validateConfig({
    services: [{ addr: ":8080", forwarder: { nodes: [{ addr: "a:1", metadata: { weight: 2 } }] } }],
    chains: [{
      name: "c",
      hops: [{ nodes: [{ addr: "n:1", dialer: { type: "tls", metadata: { k: 1 } } }] }],
    }],
  });
  deepStrictEqual(errors, []);
  deepStrictEqual(warnings, []);
  const s = config!.services[0];
  deepStrictEqual(
    [s.name, s.addr, s.handler.type, s.listener.type, s.path, s.metadata],
    ["service-0", ":8080", "auto", "tcp", "services[0]", {}],
  );
  deepStrictEqual(s.forwarder, {
    path: "services[0].forwarder",
    selector: undefined,
    nodes: [{
      name: "target-0",
      addr: "a:1",
      path: "services[0].forwarder.nodes[0]",
      metadata: { weight: 2 },
    }],
  });
  const hop = config!.chains[0].hops[0];
  deepStrictEqual([hop.name, hop.path], ["hop-0", "chains[0].hops[0]"]);
  const n = hop.nodes[0];
  deepStrictEqual(
    [n.name, n.connector.type, n.dialer.type, n.dialer.metadata, n.path],
    ["node-0", "http", "tls", { k: 1 }, "chains[0].hops[0].nodes[0]"],
  );
  equal(n.raw.name, undefined, "the node as written keeps no name, for the log fields");
});

Deno.test("validate: malformed parts are errors with their paths and are left out", () => {
  const { config, errors } = validateConfig({
    chains: [
      { name: "c", hops: [{ nodes: [] }, { nodes: [3, { addr: "", connector: "socks5" }] }] },
      { name: "c", hops: [] },
      { hops: [{}] },
      "x",
    ],
    services: [{ name: "a", addr: ":1", handler: { type: 7 }, metadata: [1] }, { name: "a", addr: "bad" }, 4],
  });
  // [path, what is wrong]
  deepStrictEqual(errors.map((e) => [e.path, e.message.slice(e.path.length + 2)]), [
    ["chains[0].hops[0].nodes", "a hop needs at least one node"],
    ["chains[0].hops[1].nodes[0]", "expected a mapping with addr, connector, dialer"],
    ["chains[0].hops[1].nodes[1].addr", 'missing address (expected "host:port", e.g. ":8080")'],
    ["chains[0].hops[1].nodes[1].connector", 'expected a mapping with a "type"'],
    ["chains[1].name", 'duplicate chain name "c"'],
    ["chains[1].hops", "a chain needs at least one hop"],
    ["chains[2].name", "a chain needs a name"],
    ["chains[3]", "expected a mapping with name and hops"],
    ["services[0].handler.type", "expected a string, got 7"],
    ["services[0].metadata", "expected a mapping of option names to values"],
    ["services[1].name", 'duplicate service name "a"'],
    ["services[1].addr", errors[11].message.slice("services[1].addr: ".length)],
    ["services[2]", "expected a mapping with name, addr, handler, listener"],
  ]);
  ok(/bad/.test(errors[11].message), errors[11].message);
  deepStrictEqual(config!.chains.map((c) => [c.name, c.hops.map((h) => h.nodes.length)]), [["c", [1]]]);
  deepStrictEqual(config!.services.map((s) => [s.name, s.handler.type]), [["a", "auto"], ["a", "auto"]]);
});

Deno.test("validate: lists, forwarders and selectors of the wrong shape", () => {
  deepStrictEqual(problems({ services: 3, chains: {} }), [
    "chains: expected a list of chains",
    "services: expected a list of services",
  ]);
  deepStrictEqual(problems({ services: [{ addr: ":1", forwarder: 3 }] }), [
    "services[0].forwarder: expected a mapping with nodes",
  ]);
  deepStrictEqual(problems({ services: [{ addr: ":1", forwarder: { nodes: 4 } }] }), [
    "services[0].forwarder.nodes: expected a list of targets",
  ]);
  deepStrictEqual(problems({ services: [{ addr: ":1", forwarder: { nodes: [5], selector: 3 } }] }), [
    "services[0].forwarder.nodes[0]: expected a mapping with addr",
    "services[0].forwarder.selector: expected a mapping with strategy, maxFails, failTimeout",
  ]);
});

Deno.test("validate: unsupported sections are warnings, unenforced settings errors", () => {
  const v = validateConfig({
    ingresses: [],
    services: [{ addr: ":1", forwarder: { nodes: [{ addr: "a:1", bypass: "b" }] } }],
  });
  deepStrictEqual(v.warnings, ["ingresses: section not supported, ignored"]);
  deepStrictEqual(v.errors.map((e) => e.path), ["services[0].forwarder.nodes[0].bypass"]);
  ok(v.errors[0].message.includes("does not enforce"), v.errors[0].message);
});
