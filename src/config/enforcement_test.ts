import { deepStrictEqual } from "node:assert/strict";
import { unenforcedSettings } from "./enforcement.ts";

const paths = (cfg: unknown) => unenforcedSettings(cfg).map((e) => e.path);

Deno.test("enforcement: restricting sections are refused, other sections are not", () => {
  deepStrictEqual(
    paths({
      admissions: [{ name: "a", matchers: ["10.9.9.9"] }],
      bypasses: [{ name: "b", matchers: ["x.com"] }],
      authers: [{ name: "u", auths: [{ username: "a", password: "b" }] }],
      limiters: [{ name: "l", limits: ["$ 1MB 1MB"] }],
      climiters: [{ name: "c", limits: ["$ 2"] }],
      rlimiters: [{ name: "r", limits: ["$ 5"] }],
      profiling: { addr: ":6060" },
      hosts: [{ name: "h", mappings: [] }],
    }),
    // limiters, climiters and rlimiters are enforced (src/limiter/).
    ["admissions", "bypasses", "authers"],
  );
});

Deno.test("enforcement: references on services, handlers, listeners, hops and nodes are refused", () => {
  deepStrictEqual(
    paths({
      services: [{
        name: "s",
        admission: "a",
        bypasses: ["b"],
        climiter: "c",
        handler: { type: "http", auther: "u", limiter: "l" },
        listener: { type: "tcp", authers: ["u"] },
        forwarder: { nodes: [{ addr: "1.2.3.4:80", bypass: "b" }] },
      }],
      chains: [{
        name: "c",
        hops: [{ name: "h", bypass: "b", nodes: [{ addr: "1.2.3.4:1", bypasses: ["b"] }] }],
      }],
    }),
    [
      "services[0].admission",
      "services[0].bypasses",
      "services[0].handler.auther",
      "services[0].listener.authers",
      "services[0].forwarder.nodes[0].bypass",
      "chains[0].hops[0].bypass",
      "chains[0].hops[0].nodes[0].bypasses",
    ],
  );
});

Deno.test("enforcement: empty values and enforced settings pass", () => {
  deepStrictEqual(
    paths({
      admissions: [],
      services: [{
        name: "s",
        admission: "",
        bypasses: [],
        handler: { type: "http", auth: { username: "a" } },
      }],
    }),
    [],
  );
});
