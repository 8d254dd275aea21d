import assert from "node:assert/strict";
import { parsePattern } from "../core/matcher.ts";
import { BypassError } from "../core/errors.ts";
import { duplexPair } from "../core/pipe.ts";
import { rootLogger } from "../core/log.ts";
import type { Connector, Dialer } from "../core/types.ts";
import { MatcherBypass } from "../bypass/bypass.ts";
import { HostMapper } from "../hosts/hosts.ts";
import { Chain, Hop, Node } from "./node.ts";
import { ChainRouter } from "./router.ts";
import { Selector } from "./selector.ts";

const ctx = { log: rootLogger.with({ test: "router" }) };
const bypass = (...p: string[]) => new MatcherBypass("b", p.map(parsePattern));

/** A node that records the addresses it is asked to reach; `trail` shows a route's steps. */
function node(name: string, trail: string[], nodeBypass?: MatcherBypass): Node {
  const dialer: Dialer = {
    dial: (addr) => {
      trail.push(`dial ${name}@${addr}`);
      return Promise.resolve(duplexPair()[0]);
    },
    handshake: (conn) => Promise.resolve(conn),
  };
  const connector: Connector = {
    connect: (conn, _network, addr) => {
      trail.push(`${name} > ${addr}`);
      return Promise.resolve(conn);
    },
  };
  return new Node(name, `${name}:1`, dialer, connector, 1, nodeBypass);
}

const fifo = () => new Selector({ strategy: "fifo", maxFails: 1, failTimeout: 10_000 });

Deno.test("router: a bypassed hop ends the route there; the first hop bypassed goes direct", async () => {
  const trail: string[] = [];
  const chain = new Chain("c", [
    new Hop("h0", [node("a", trail)], fifo(), bypass("127.0.0.1")),
    new Hop("h1", [node("b", trail)], fifo(), bypass("10.0.0.2")),
  ]);
  const r = new ChainRouter(chain);
  (await r.dial("tcp", "10.0.0.9:80", ctx)).close();
  assert.deepEqual(trail.splice(0), ["dial a@a:1", "a > b:1", "b > 10.0.0.9:80"]);
  (await r.dial("tcp", "10.0.0.2:80", ctx)).close();
  assert.deepEqual(
    trail.splice(0),
    ["dial a@a:1", "a > 10.0.0.2:80"],
    "hop h1 skipped: h0 reaches the target",
  );
  // 127.0.0.1 bypasses the first hop: a direct dial (refused here: nothing listens on port 1).
  await assert.rejects(r.dial("tcp", "127.0.0.1:1", ctx));
  assert.deepEqual(trail.splice(0), [], "no node was used");
});

Deno.test("router: a node whose bypass contains the target is skipped for another node of its hop", async () => {
  const trail: string[] = [];
  const chain = new Chain("c", [
    new Hop("h", [node("a", trail, bypass(".example.org")), node("b", trail)], fifo()),
  ]);
  const r = new ChainRouter(chain);
  (await r.dial("tcp", "www.example.org:443", ctx)).close();
  assert.deepEqual(trail.splice(0), ["dial b@b:1", "b > www.example.org:443"]);
  (await r.dial("tcp", "example.com:443", ctx)).close();
  assert.deepEqual(trail.splice(0), ["dial a@a:1", "a > example.com:443"]);
});

Deno.test("router: the service bypass refuses before any dial", async () => {
  const trail: string[] = [];
  const r = new ChainRouter(new Chain("c", [new Hop("h", [node("a", trail)])]), {
    bypass: bypass("*.bad.test"),
  });
  await assert.rejects(r.dial("tcp", "x.bad.test:80", ctx), BypassError);
  await assert.rejects(
    new ChainRouter(undefined, { bypass: bypass("127.0.0.1") }).dial("tcp", "127.0.0.1:1", ctx),
    BypassError,
  );
  assert.deepEqual(trail, []);
});

Deno.test("router: the service bypass is tested on the address after the hosts mapping, as gost's", async () => {
  const trail: string[] = [];
  const hosts = new HostMapper("h", [{ ip: "127.0.0.9", hostname: "mapped.test" }]);
  const r = new ChainRouter(new Chain("c", [new Hop("h", [node("a", trail)])]), {
    hosts,
    bypass: bypass("127.0.0.9"),
  });
  await assert.rejects(r.dial("tcp", "mapped.test:80", ctx), BypassError);
  (await r.dial("tcp", "other.test:80", ctx)).close();
  assert.deepEqual(trail, ["dial a@a:1", "a > other.test:80"]);
  hosts.close();
});
