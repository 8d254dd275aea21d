import assert from "node:assert/strict";
import type { Config, ServiceConfig } from "../config/types.ts";
import { ConfigError } from "../core/errors.ts";
import { parseWorkers, PORT_SHARING, probePorts, withSharedPorts, workerEligible } from "./sharing.ts";

const svc = (over: Partial<ServiceConfig> & Record<string, unknown> = {}): ServiceConfig => ({
  name: "s",
  addr: "127.0.0.1:8080",
  handler: { type: "tcp" },
  listener: { type: "tcp" },
  forwarder: { nodes: [{ name: "t", addr: "127.0.0.1:9000" }] },
  ...over,
});

Deno.test("workers setting: auto is the CPU count, numbers 1..64, anything else names the key", () => {
  assert.equal(parseWorkers(undefined, 4), 4);
  assert.equal(parseWorkers("auto", 2), 2);
  assert.equal(parseWorkers(" AUTO ", 1), 1);
  assert.equal(parseWorkers(3, 2), 3);
  assert.equal(parseWorkers("2", 8), 2);
  assert.equal(parseWorkers("auto", 500), 64);
  for (const bad of [0, -1, 1.5, 65, "many", true, {}]) {
    assert.throws(() => parseWorkers(bad, 2), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /^workers: invalid value .*expected "auto" or a number of threads from 1 to 64/,
      );
      return true;
    });
  }
});

Deno.test("workers eligibility: stream listeners without cross-connection state", () => {
  const cfg: Config = {
    chains: [
      { name: "one", hops: [{ name: "h", nodes: [{ name: "n", addr: "a:1" }] as never }] },
      {
        name: "rr",
        hops: [{ name: "h", nodes: [{ name: "n", addr: "a:1" }, { name: "m", addr: "b:1" }] as never }],
      },
      {
        name: "rand",
        hops: [{
          name: "h",
          selector: { strategy: "random" },
          nodes: [{ name: "n", addr: "a:1" }, { name: "m", addr: "b:1" }] as never,
        }],
      },
      {
        name: "kcp",
        hops: [{ name: "h", nodes: [{ name: "n", addr: "a:1", dialer: { type: "kcp" } }] as never }],
      },
      {
        name: "ws",
        hops: [{ name: "h", nodes: [{ name: "n", addr: "a:1", dialer: { type: "ws" } }] as never }],
      },
    ],
  };
  const yes = (s: ServiceConfig) => assert.equal(workerEligible(s, cfg), true, JSON.stringify(s));
  const no = (s: ServiceConfig) => assert.equal(workerEligible(s, cfg), false, JSON.stringify(s));
  yes(svc());
  for (const l of ["tls", "ws", "wss"]) yes(svc({ listener: { type: l } }));
  // sshd: only with a host key file (a generated key would differ per thread)
  no(svc({ listener: { type: "sshd" } }));
  yes(svc({ listener: { type: "sshd", metadata: { privateKeyFile: "/etc/ssh/key" } } }));
  yes(svc({ listener: { type: "sshd", tls: { keyFile: "key.pem" } } }));
  yes(svc({ handler: { type: "http", chain: "one" }, forwarder: undefined }));
  yes(svc({ handler: { type: "socks5", chain: "rand" }, forwarder: undefined }));
  for (const l of ["udp", "kcp", "rtcp", "rudp"]) no(svc({ listener: { type: l } }));
  for (const h of ["rtcp", "rudp", "udp", "ss", "ssu"]) no(svc({ handler: { type: h } }));
  no(svc({ limiter: "lim" }));
  no(svc({ climiter: "c" }));
  no(svc({ handler: { type: "tcp", limiter: "x" } as never }));
  no(svc({ listener: { type: "tcp", metadata: { ReusePort: "false" } } }));
  // round robin over several targets or chain nodes is one sequence; other strategies are not
  const two = [{ name: "a", addr: "a:1" }, { name: "b", addr: "b:1" }];
  no(svc({ forwarder: { nodes: two } }));
  no(svc({ forwarder: { nodes: two, selector: { strategy: "rr" } } }));
  yes(svc({ forwarder: { nodes: two, selector: { strategy: "hash" } } }));
  yes(svc({ forwarder: { nodes: two, selector: { strategy: "fifo" } } }));
  no(svc({ handler: { type: "http", chain: "rr" }, forwarder: undefined }));
  // a KCP session is one per node: a second thread would open a second one
  no(svc({ handler: { type: "tcp", chain: "kcp" } }));
  yes(svc({ handler: { type: "tcp", chain: "ws" } }));
});

Deno.test({
  name: "withSharedPorts: reusePort on every stream-port service, only when workers run",
  ignore: !PORT_SHARING,
}, () => {
  const config: Config = {
    workers: 2,
    services: [
      svc({ name: "a" }),
      svc({ name: "lim", addr: ":81", limiter: "l" }),
      svc({ name: "u", addr: ":82", listener: { type: "udp" } }),
      svc({ name: "mine", addr: ":83", listener: { type: "tcp", metadata: { reuseport: "true" } } }),
    ],
  };
  const shared = withSharedPorts(config);
  const md = (i: number) => shared.services![i].listener.metadata;
  assert.deepEqual(md(0), { reusePort: true });
  // main-thread-only services on a TCP port get it too: a reload may move the port to workers
  assert.deepEqual(md(1), { reusePort: true });
  assert.equal(md(2), undefined);
  assert.deepEqual(md(3), { reuseport: "true" });
  assert.equal(config.services![0].listener.metadata, undefined, "the input is not changed");

  const single = { ...config, workers: 1 };
  assert.equal(withSharedPorts(single), single);
  // the thread count fixed at start wins over the config's (a reload cannot change it)
  assert.equal(withSharedPorts(config, 1), config);
  assert.deepEqual(withSharedPorts(single, 2).services![0].listener.metadata, { reusePort: true });
});

Deno.test({
  name: "probePorts: a port another program shares with SO_REUSEPORT still fails the start",
  ignore: !PORT_SHARING,
}, () => {
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
  const port = (other.addr as Deno.NetAddr).port;
  try {
    const shared = withSharedPorts({ workers: 2, services: [svc({ addr: `127.0.0.1:${port}` })] });
    assert.throws(() => probePorts(shared, new Set()), /cannot listen on 127\.0\.0\.1:\d+: .*in use/i);
    // a port this process holds already (a kept service) is not probed
    probePorts(shared, new Set([port]));
    // two services of one config on one port: the second fails, as without workers
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p2 = (free.addr as Deno.NetAddr).port;
    free.close();
    const twice = withSharedPorts({
      workers: 2,
      services: [svc({ name: "a", addr: `127.0.0.1:${p2}` }), svc({ name: "b", addr: `127.0.0.1:${p2}` })],
    });
    assert.throws(() => probePorts(twice, new Set()), /in use/i);
  } finally {
    other.close();
  }
});
