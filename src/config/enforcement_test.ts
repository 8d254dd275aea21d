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
    // authers, admissions and bypasses are enforced (src/auth, src/admission, src/bypass).
    ["limiters", "climiters", "rlimiters"],
  );
});

Deno.test("enforcement: unenforced references on services, handlers and forwarder nodes are refused", () => {
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
    // Enforced now: admission(s), bypass(es) of services, hops and chain nodes, auther(s).
    ["services[0].climiter", "services[0].handler.limiter", "services[0].forwarder.nodes[0].bypass"],
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
