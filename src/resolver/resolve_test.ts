import { equal, rejects } from "node:assert/strict";
import { Chain, Hop, Node } from "../chain/node.ts";
import { ChainRouter } from "../chain/router.ts";
import { DEFAULT_SELECTOR, Selector } from "../chain/selector.ts";
import { ForwardConnector } from "../connector/forward.ts";
import { TcpDialer } from "../dialer/tcp.ts";
import { Logger } from "../core/log.ts";
import { HostMapper } from "../hosts/hosts.ts";
import { tcpEchoServer } from "../../tests/_helpers.ts";
import { resolveAddr, ResolveError } from "./resolve.ts";
import type { Resolver } from "./resolver.ts";

const quiet = new Logger({ level: "fatal", format: "json", sink: () => {} });
const ctx = { log: quiet };

/** A resolver answering from a table, counting questions. */
function fakeResolver(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: (host: string) => {
      asked.push(host);
      return Promise.resolve(table[host] ?? []);
    },
  } as unknown as Resolver & { asked: string[] };
}

Deno.test("resolve: hosts first, then the resolver; IP literals and empty hosts untouched", async () => {
  const hosts = new HostMapper("h", [{ hostname: "mapped.test", ip: "::1" }]);
  const resolver = fakeResolver({ "dns.test": ["10.0.0.7"] });
  const lookup = { hosts, resolver };
  equal(await resolveAddr("mapped.test:80", lookup, ctx), "[::1]:80");
  equal(await resolveAddr("dns.test:443", lookup, ctx), "10.0.0.7:443");
  equal(await resolveAddr("10.1.1.1:1", lookup, ctx), "10.1.1.1:1");
  equal(await resolveAddr("[::2]:1", lookup, ctx), "[::2]:1");
  equal(await resolveAddr(":8080", lookup, ctx), ":8080");
  equal(resolver.asked.join(), "dns.test");
  await rejects(resolveAddr("nx.test:1", lookup, ctx), ResolveError);
  // Hosts alone: a name it does not map goes on unchanged (the dialer resolves it).
  equal(await resolveAddr("other.test:1", { hosts }, ctx), "other.test:1");
});

Deno.test({
  name: "resolve: a router with hosts dials the mapped address; without, the name goes on",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const echo = tcpEchoServer();
    try {
      const hosts = new HostMapper("h", [{ hostname: "echo.test", ip: "127.0.0.1" }]);
      const router = new ChainRouter(undefined, { hosts });
      equal(router.resolveTarget(`echo.test:${echo.port}`, ctx) instanceof Promise, true);
      equal(new ChainRouter().resolveTarget("echo.test:1", ctx), "echo.test:1", "no lookup: no await");
      const conn = await router.dial("tcp", `echo.test:${echo.port}`, ctx);
      equal(conn.remote, `127.0.0.1:${echo.port}`);
      conn.close();
      const refused = new ChainRouter(undefined, { resolver: fakeResolver({}) });
      await rejects(refused.dial("tcp", `echo.test:${echo.port}`, ctx), /domain echo\.test does not exist/);
    } finally {
      echo.close();
    }
  },
});

Deno.test({
  name: "resolve: a node's address goes through its lookup; a node whose name is not found is skipped",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const echo = tcpEchoServer();
    try {
      const bad = new Node("bad", `nowhere.test:${echo.port}`, new TcpDialer(), new ForwardConnector());
      bad.lookup = { resolver: fakeResolver({}) };
      const good = new Node("good", `proxy.test:${echo.port}`, new TcpDialer(), new ForwardConnector());
      good.lookup = { hosts: new HostMapper("h", [{ hostname: "proxy.test", ip: "127.0.0.1" }]) };
      const selector = new Selector({ ...DEFAULT_SELECTOR, strategy: "fifo" });
      const router = new ChainRouter(new Chain("c", [new Hop("h", [bad, good], selector)]));
      const conn = await router.dial("tcp", "target.test:1", ctx);
      equal(conn.remote, `127.0.0.1:${echo.port}`);
      equal(bad.marker.fails, 1, "the node whose name was not found was tried first and marked");
      conn.close();
    } finally {
      echo.close();
    }
  },
});
