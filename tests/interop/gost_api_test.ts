/**
 * The Web API against a real gost 3 binary (GOST_BIN): the same sequence of calls (create a
 * service, create a chain, a service using it, update both, delete them) against both, and after
 * each call the same `GET /config` JSON — modulo the order of named entries and of keys, each
 * service's `status` (times and counters), and the ports, which differ between the two runs and
 * are compared by role. Skipped with a message when GOST_BIN is unset.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { freePort, type GostProcess, startGost, startProcess, tcpEchoServer } from "../_helpers.ts";

const GOST_BIN = Deno.env.get("GOST_BIN") ?? "";
if (!GOST_BIN) console.warn("SKIP gost_api_test: set GOST_BIN=/path/to/gost (a gost 3 binary) to run it");

/** The ports one implementation's run uses, by role. */
type Ports = Record<"api" | "a" | "b" | "upstream" | "upstream2", number>;

/** One call of the sequence, written with roles in place of ports (`$a`, `$api`, …). */
type Call = [method: string, path: string, body?: unknown];

const forward = (name: string, port: string, target: string) => ({
  name,
  addr: `127.0.0.1:${port}`,
  handler: { type: "tcp" },
  listener: { type: "tcp" },
  forwarder: { nodes: [{ name: "target", addr: `127.0.0.1:${target}` }] },
});
const chain = (upstream: string) => ({
  name: "chain-0",
  hops: [{
    name: "hop-0",
    nodes: [{
      name: "node-0",
      addr: `127.0.0.1:${upstream}`,
      connector: { type: "http" },
      dialer: { type: "tcp" },
    }],
  }],
});

const SEQUENCE: Call[] = [
  ["POST", "/config/services", forward("svc-a", "$a", "$echo")],
  ["POST", "/config/chains", chain("$upstream")],
  ["POST", "/config/services", {
    name: "svc-b",
    addr: "127.0.0.1:$b",
    handler: { type: "http", chain: "chain-0" },
    listener: { type: "tcp" },
  }],
  ["PUT", "/config/chains/chain-0", chain("$upstream2")],
  ["PUT", "/config/services/svc-a", forward("svc-a", "$a", "$upstream")],
  ["DELETE", "/config/services/svc-b"],
  ["DELETE", "/config/chains/chain-0"],
];

/** `value` with `$role` placeholders replaced by this run's ports. */
function withPorts(value: unknown, ports: Record<string, number>): unknown {
  return JSON.parse(JSON.stringify(value).replace(/\$(\w+)/g, (m, k) => (k in ports ? String(ports[k]) : m)));
}

/**
 * What must agree between the two: ports back to their roles, no `status`, named entries in name
 * order (deepStrictEqual already ignores the order of keys).
 */
function comparable(value: unknown, ports: Record<string, number>): unknown {
  const byPort = new Map(Object.entries(ports).map(([k, p]) => [String(p), k]));
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      return v.replace(/:(\d+)$/, (m, p) => (byPort.has(p) ? `:$${byPort.get(p)}` : m));
    }
    if (Array.isArray(v)) {
      const items = v.map(walk);
      const named = items.every((x) =>
        x && typeof x === "object" && typeof (x as { name?: unknown }).name === "string"
      );
      return named
        ? items.sort((x, y) =>
          String((x as { name: string }).name).localeCompare((y as { name: string }).name)
        )
        : items;
    }
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).filter(([k]) => k !== "status").map(([k, x]) => [k, walk(x)]),
      );
    }
    return v;
  };
  return walk(value);
}

/** Runs the sequence against one implementation; the comparable config after each call. */
async function run(start: (api: number) => Promise<GostProcess>, echo: number): Promise<unknown[]> {
  const ports: Ports & { echo: number } = {
    api: freePort(),
    a: freePort(),
    b: freePort(),
    upstream: freePort(),
    upstream2: freePort(),
    echo,
  };
  await using _g = await start(ports.api);
  const base = `http://127.0.0.1:${ports.api}`;
  const configs: unknown[] = [];
  for (const [method, path, body] of SEQUENCE) {
    const r = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(withPorts(body, ports)),
    });
    const text = await r.text();
    equal(r.status, 200, `${method} ${path}: ${text}`);
    deepStrictEqual(JSON.parse(text), { msg: "OK" });
    const got = await fetch(`${base}/config?format=json`);
    equal(got.status, 200);
    configs.push(comparable(await got.json(), ports));
  }
  return configs;
}

Deno.test({
  name: "real gost api: the same calls give the same GET /config (modulo ordering, status and ports)",
  ignore: !GOST_BIN,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using echo = tcpEchoServer();
    const theirs = await run((api) => startProcess(GOST_BIN, ["-api", `127.0.0.1:${api}`], [api]), echo.port);
    const ours = await run((api) => startGost(["-api", `127.0.0.1:${api}`]), echo.port);
    SEQUENCE.forEach(([method, path], i) => {
      deepStrictEqual(ours[i], theirs[i], `GET /config after ${method} ${path} (step ${i + 1})`);
    });
  },
});
