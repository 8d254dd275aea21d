import { deepStrictEqual } from "node:assert/strict";
import { unenforcedSettings } from "./enforcement.ts";

const paths = (cfg: unknown) => unenforcedSettings(cfg).map((e) => e.path);

Deno.test("enforcement: every restricting section is enforced now, so none is refused", () => {
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
    // Every restricting section is enforced now (src/auth, src/admission, src/bypass, src/limiter).
    [],
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
    // Enforced now: everything but a forwarder node's bypass (gost uses it only when sniffing).
    ["services[0].forwarder.nodes[0].bypass"],
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
