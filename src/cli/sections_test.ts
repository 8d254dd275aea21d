import { deepStrictEqual, equal, throws } from "node:assert/strict";
import type { Config, HopConfig, ServiceConfig } from "../config/types.ts";
import { Params } from "./params.ts";
import { extractServiceComponents, takeLookupSections } from "./sections.ts";
import { parseGostURL } from "./url.ts";

Deno.test("sections: a hop's and a service's bypass, resolver and hosts become numbered sections", () => {
  const cfg: Config = {};
  const hop: HopConfig = { name: "hop-0", nodes: [] };
  const p = new Params([["bypass", "~a.com,b.com"], ["resolver", "1.1.1.1,,udp://8.8.8.8:53"], ["x", "1"]]);
  takeLookupSections(p, cfg, hop);
  deepStrictEqual([hop.bypass, hop.resolver, hop.hosts], ["bypass-0", "resolver-0", undefined]);
  deepStrictEqual([...p.map.keys()], ["x"]);
  const svc = { bypass: "", resolver: "", hosts: "" };
  takeLookupSections(
    new Params([["bypass", "c.com"], ["resolver", ","], ["hosts", "h:1.2.3.4,bad"]]),
    cfg,
    svc,
    "ipv6",
  );
  deepStrictEqual(svc, { bypass: "bypass-1", resolver: "resolver-1", hosts: "hosts-0" });
  deepStrictEqual(cfg, {
    bypasses: [{ name: "bypass-0", whitelist: true, matchers: ["a.com", "b.com"] }, {
      name: "bypass-1",
      matchers: ["c.com"],
    }],
    resolvers: [
      { name: "resolver-0", nameservers: [{ addr: "1.1.1.1" }, { addr: "udp://8.8.8.8:53" }] },
      { name: "resolver-1" },
    ],
    hosts: [{ name: "hosts-0", mappings: [{ ip: "1.2.3.4", hostname: "h" }] }],
  });
});

Deno.test("sections: a service's prefer goes on its nameservers; limiters, retries; the rest stays", () => {
  const url = parseGostURL("socks5://:1");
  const svc: ServiceConfig = {
    name: "service-0",
    addr: ":1",
    listener: { type: "tcp" },
    handler: {
      type: "socks5",
      metadata: {
        resolver: "1.1.1.1",
        prefer: "ipv4",
        "limiter.in": "1MB",
        "limiter.conn.out": "2MB",
        climiter: "5",
        rlimiter: "0",
        retries: "2",
        admission: "10.0.0.0/8",
        keep: true,
      },
    },
  };
  const cfg: Config = {};
  extractServiceComponents(svc, cfg, url);
  deepStrictEqual(svc.handler, {
    type: "socks5",
    retries: 2,
    metadata: { prefer: "ipv4", rlimiter: "0", keep: true },
  });
  deepStrictEqual([svc.admission, svc.resolver, svc.limiter, svc.climiter, svc.rlimiter], [
    "admission-0",
    "resolver-0",
    "limiter-0",
    "climiter-0",
    undefined,
  ]);
  deepStrictEqual(cfg.resolvers, [{
    name: "resolver-0",
    nameservers: [{ addr: "1.1.1.1", prefer: "ipv4" }],
  }]);
  deepStrictEqual(cfg.limiters, [{ name: "limiter-0", limits: ["$ 1MB ", "$$  2MB"] }]);
  deepStrictEqual(cfg.climiters, [{ name: "climiter-0", limits: ["$ 5"] }]);
  const only: ServiceConfig = { ...svc, handler: { type: "socks5", metadata: { climiter: "3" } } };
  extractServiceComponents(only, cfg, url);
  equal(only.handler.metadata, undefined, "nothing left: no metadata");
  equal(only.climiter, "climiter-1");
  throws(
    () =>
      extractServiceComponents({ ...svc, handler: { type: "x", metadata: { rlimiter: "fast" } } }, cfg, url),
    /rlimiter=fast: expected a number/,
  );
});
