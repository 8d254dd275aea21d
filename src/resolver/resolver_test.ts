import { deepStrictEqual, equal, match, rejects, throws } from "node:assert/strict";
import { ChainRouter } from "../chain/router.ts";
import { ConfigError } from "../core/errors.ts";
import { Logger } from "../core/log.ts";
import { decodeMessage, encodeResponse, type Message, RCode, RRType } from "../protocol/dns/dns.ts";
import { startDnsServer } from "../../tests/_dns_server.ts";
import { buildResolvers } from "./build.ts";
import { DnsCache } from "./cache.ts";
import { type Exchanger, NetExchanger, parseNameserverAddr } from "./exchanger.ts";
import { type Nameserver, Resolver } from "./resolver.ts";

const quiet = new Logger({ level: "fatal", format: "json", sink: () => {} });
const ctx = { log: quiet };

/** A nameserver in memory: answers from `table` (name → [A list, AAAA list]) and counts questions. */
class FakeExchanger implements Exchanger {
  readonly name = "fake";
  asked: string[] = [];
  fail = false;
  constructor(public table: Record<string, [string[], string[]]>, public ttl = 30) {}
  exchange(query: Uint8Array): Promise<Uint8Array> {
    const q: Message = decodeMessage(query);
    const { name, type } = q.questions[0];
    this.asked.push(`${name}/${type === RRType.A ? "A" : "AAAA"}`);
    if (this.fail) return Promise.reject(new Error("unreachable"));
    const entry = this.table[name];
    if (!entry) return Promise.resolve(encodeResponse(q, [], RCode.NXDomain));
    const ips = type === RRType.A ? entry[0] : entry[1];
    return Promise.resolve(encodeResponse(
      q,
      ips.map((ip) => ({
        name,
        type,
        ttl: this.ttl,
        data: type === RRType.A ? Uint8Array.from(ip.split(".").map(Number)) : new Uint8Array(16).fill(1),
      })),
    ));
  }
}

function ns(ex: Exchanger, more: Partial<Nameserver> = {}): Nameserver {
  return { exchanger: ex, ttl: 0, prefer: "ipv4", async: false, ...more };
}

Deno.test("cache: ttl 0 keeps the smallest record TTL (60 s without records), > 0 overrides, < 0 off", () => {
  let now = 1000;
  const c = new DnsCache(() => now, 2);
  c.set("a", ["1.1.1.1"], 0, [30, 10]);
  equal(c.get("a")!.remaining, 10_000);
  c.set("b", [], 0, []);
  equal(c.get("b")!.remaining, 60_000);
  c.set("c", ["1.1.1.1"], 5000, [300]);
  equal(c.get("c")!.remaining, 5000);
  equal(c.get("a"), undefined, "the oldest entry made room");
  c.set("d", ["1.1.1.1"], -1, [300]);
  equal(c.get("d"), undefined);
  now += 6000;
  equal(c.get("c")!.remaining, -1000, "a stale entry is still returned, marked stale");
});

Deno.test("resolver: IPv4 first, IPv6 when there is none; cached for the answer's TTL", async () => {
  let now = 0;
  const ex = new FakeExchanger({ "a.test": [["10.0.0.1"], []], "six.test": [[], ["::"]] }, 30);
  const r = new Resolver("r", [ns(ex)], quiet, () => now);
  deepStrictEqual(await r.resolve("A.Test.", ctx), ["10.0.0.1"]);
  deepStrictEqual(await r.resolve("a.test", ctx), ["10.0.0.1"]);
  deepStrictEqual(ex.asked, ["a.test/A"]);
  now += 31_000;
  await r.resolve("a.test", ctx);
  deepStrictEqual(ex.asked, ["a.test/A", "a.test/A"], "asked again after the TTL");
  equal((await r.resolve("six.test", ctx)).length, 1);
  deepStrictEqual(ex.asked.slice(2), ["six.test/A", "six.test/AAAA"]);
  deepStrictEqual(await r.resolve("10.1.2.3", ctx), ["10.1.2.3"], "an IP literal is not asked");
  deepStrictEqual(await r.resolve("[::1]", ctx), ["::1"]);
});

Deno.test("resolver: prefer ipv6 asks AAAA first; only ipv4 never asks AAAA", async () => {
  const ex = new FakeExchanger({ "b.test": [["10.0.0.2"], ["::"]], "v6only.test": [[], ["::"]] });
  const r6 = new Resolver("r", [ns(ex, { prefer: "ipv6" })], quiet);
  equal((await r6.resolve("b.test", ctx))[0].includes(":"), true);
  const only = new Resolver("r", [ns(ex, { only: "ipv4", prefer: "ipv4" })], quiet);
  deepStrictEqual(await only.resolve("v6only.test", ctx), []);
  deepStrictEqual(ex.asked, ["b.test/AAAA", "v6only.test/A"]);
});

Deno.test("resolver: a failing or empty nameserver hands over to the next", async () => {
  const down = new FakeExchanger({});
  down.fail = true;
  const empty = new FakeExchanger({});
  const good = new FakeExchanger({ "c.test": [["10.0.0.3"], []] });
  const r = new Resolver("r", [ns(down), ns(empty), ns(good)], quiet);
  deepStrictEqual(await r.resolve("c.test", ctx), ["10.0.0.3"]);
  const alone = new Resolver("r", [ns(down)], quiet);
  await rejects(alone.resolve("c.test", ctx), /unreachable/);
  deepStrictEqual(await new Resolver("r", [ns(empty)], quiet).resolve("nx.test", ctx), []);
});

Deno.test("resolver: ttl < 0 never caches; async answers from a stale entry and refreshes it", async () => {
  let now = 0;
  const ex = new FakeExchanger({ "d.test": [["10.0.0.4"], []] }, 10);
  const nocache = new Resolver("r", [ns(ex, { ttl: -1 })], quiet, () => now);
  await nocache.resolve("d.test", ctx);
  await nocache.resolve("d.test", ctx);
  equal(ex.asked.length, 2);

  const ex2 = new FakeExchanger({ "d.test": [["10.0.0.4"], []] }, 10);
  const r = new Resolver("r", [ns(ex2, { async: true })], quiet, () => now);
  deepStrictEqual(await r.resolve("d.test", ctx), ["10.0.0.4"]);
  ex2.table["d.test"] = [["10.0.0.5"], []];
  now += 11_000;
  deepStrictEqual(await r.resolve("d.test", ctx), ["10.0.0.4"], "stale answer at once");
  await new Promise((res) => setTimeout(res, 10));
  deepStrictEqual(await r.resolve("d.test", ctx), ["10.0.0.5"], "refreshed in the background");
});

Deno.test("resolver: concurrent questions for one name are asked once", async () => {
  const ex = new FakeExchanger({ "e.test": [["10.0.0.6"], []] });
  const r = new Resolver("r", [ns(ex)], quiet);
  await Promise.all([r.resolve("e.test", ctx), r.resolve("e.test", ctx), r.resolve("e.test", ctx)]);
  equal(ex.asked.length, 1);
});

Deno.test("exchanger: nameserver addresses as gost writes them", () => {
  deepStrictEqual(parseNameserverAddr("1.1.1.1"), { proto: "udp", addr: "1.1.1.1:53" });
  deepStrictEqual(parseNameserverAddr("udp://1.1.1.1:5353"), { proto: "udp", addr: "1.1.1.1:5353" });
  deepStrictEqual(parseNameserverAddr("tcp://8.8.8.8"), { proto: "tcp", addr: "8.8.8.8:53" });
  deepStrictEqual(parseNameserverAddr("tls://8.8.8.8:853"), { proto: "tls", addr: "8.8.8.8:853" });
  deepStrictEqual(parseNameserverAddr("dot://[2606:4700::1111]"), {
    proto: "tls",
    addr: "[2606:4700::1111]:53",
  });
  const doh = parseNameserverAddr("https://1.0.0.1/dns-query");
  equal(doh.addr, "1.0.0.1:443");
  equal(doh.url!.pathname, "/dns-query");
  equal(parseNameserverAddr("https://dns.example/dns-query").addr, "dns.example:443");
  throws(() => parseNameserverAddr("quic://1.1.1.1"), /unknown nameserver protocol "quic"/);
  throws(() => parseNameserverAddr("udp://1.1.1.1:99999"), /malformed|port/);
  // A name is dialled as it is (the system resolver finds it), as gost does.
  deepStrictEqual(parseNameserverAddr("tcp://dns.example"), { proto: "tcp", addr: "dns.example:53" });
  throws(() => parseNameserverAddr("udp://"), /malformed|no host/);
});

Deno.test("resolvers: bad input is a config error naming its path", () => {
  const errors: ConfigError[] = [];
  buildResolvers(
    [
      { name: "a", nameservers: [{ addr: "udp://1.1.1.1:x" }, { addr: "1.1.1.1", chain: "nope" }] },
      { name: "b", nameservers: [{ addr: "1.1.1.1", ttl: "soon", prefer: "ipv5" }] },
      { name: "c", nameservers: [{ addr: "1.1.1.1", clientIP: "1.2.3" }] },
      { name: "d", plugin: { addr: "127.0.0.1:8000" } },
      { name: "e", nameservers: [] },
    ],
    errors,
    [],
    quiet,
    () => undefined,
    new ChainRouter(),
    ["c0"],
  );
  const text = errors.map((e) => e.message).join("\n");
  match(text, /resolvers\[0\]\.nameservers\[0\]\.addr: malformed nameserver address "udp:\/\/1\.1\.1\.1:x"/);
  match(text, /resolvers\[0\]\.nameservers\[1\]\.chain: chain "nope" does not exist \(defined: c0\)/);
  match(text, /resolvers\[1\]\.nameservers\[0\]\.(ttl|prefer): invalid value/);
  match(text, /resolvers\[2\]\.nameservers\[0\]\.clientIP: "1\.2\.3" is not an IP address/);
  match(text, /resolvers\[3\]\.plugin: resolver plugins are not supported yet/);
  match(text, /resolvers\[4\]\.nameservers: a resolver needs at least one nameserver/);
});

Deno.test({
  name: "exchanger: udp, tcp, tls and https against a local DNS server; ECS in the query",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const srv = await startDnsServer({ "example.test": ["127.0.0.1"] });
    try {
      for (
        const [addr, proto] of [
          [`udp://127.0.0.1:${srv.udp}`, "udp"],
          [`tcp://127.0.0.1:${srv.tcp}`, "tcp"],
          [`tls://127.0.0.1:${srv.tls}`, "tls"],
          [`https://127.0.0.1:${srv.https}/dns-query`, "https"],
        ]
      ) {
        const ex = new NetExchanger(addr, parseNameserverAddr(addr), new ChainRouter(), {
          timeout: 5000,
          hostname: "",
        });
        const r = new Resolver("r", [
          ns(ex, { clientSubnet: { family: 1, sourcePrefix: 24, address: Uint8Array.of(1, 2, 3, 4) } }),
        ], quiet);
        deepStrictEqual(await r.resolve("example.test", ctx), ["127.0.0.1"], addr);
        equal(srv.log.at(-1), `${proto} example.test 1`);
        const opt = srv.queries.at(-1)!.additionals[0];
        equal(opt.type, RRType.OPT);
        deepStrictEqual([...opt.data.subarray(4)], [0, 1, 24, 0, 1, 2, 3], "client subnet 1.2.3.0/24");
        deepStrictEqual(await r.resolve("missing.test", ctx), [], `${addr}: NXDOMAIN is no address`);
      }
    } finally {
      await srv.close();
    }
  },
});
