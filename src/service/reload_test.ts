import assert from "node:assert/strict";
import { freePort, tcpEchoServer } from "../../tests/_helpers.ts";
import type { Config } from "../config/types.ts";
import { configureLog, rootLogger } from "../core/log.ts";
import { buildRuntime } from "./build.ts";
import { serviceFingerprints, Supervisor } from "./reload.ts";

configureLog({ sink: () => {} });

function fwd(name: string, port: number, target: number, chain?: string) {
  return {
    name,
    addr: `127.0.0.1:${port}`,
    handler: { type: "tcp", ...(chain ? { chain } : {}) },
    listener: { type: "tcp" },
    forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${target}` }] },
  };
}

function chain(name: string, addr: string) {
  return {
    name,
    hops: [{
      name: "h",
      nodes: [{ name: "n", addr, connector: { type: "relay" }, dialer: { type: "tcp" } }],
    }],
  };
}

Deno.test("fingerprints: equal configs match whatever the key order; a change touches only its service", () => {
  const a: Config = { services: [fwd("x", 1, 2), fwd("y", 3, 4)] };
  const b = JSON.parse(JSON.stringify(a));
  b.services[0] = Object.fromEntries(Object.entries(b.services[0]).reverse());
  assert.deepEqual(serviceFingerprints(a), serviceFingerprints(b));
  b.services[1].forwarder.nodes[0].addr = "127.0.0.1:5";
  const fa = serviceFingerprints(a), fb = serviceFingerprints(b);
  assert.equal(fa.get("x"), fb.get("x"));
  assert.notEqual(fa.get("y"), fb.get("y"));
});

Deno.test("fingerprints: a service changes with the chain it uses, not with other chains", () => {
  const a: Config = {
    services: [fwd("uses-c", 1, 2, "c"), fwd("plain", 3, 4), fwd("uses-d", 5, 6, "d")],
    chains: [chain("c", "127.0.0.1:7"), chain("d", "127.0.0.1:8")],
  };
  const b = structuredClone(a);
  b.chains![0].hops[0].nodes[0].addr = "127.0.0.1:9";
  const fa = serviceFingerprints(a), fb = serviceFingerprints(b);
  assert.notEqual(fa.get("uses-c"), fb.get("uses-c"));
  assert.equal(fa.get("plain"), fb.get("plain"));
  assert.equal(fa.get("uses-d"), fb.get("uses-d"));
});

Deno.test("fingerprints: unnamed services are named by position; a renewed certificate file is a change", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cert = `${dir}/cert.pem`;
    await Deno.writeTextFile(cert, "one");
    const svc = { addr: ":1", handler: { type: "http" }, listener: { type: "tls" }, tls: { certFile: cert } };
    const config = { services: [svc] } as unknown as Config;
    const before = serviceFingerprints(config);
    assert.deepEqual([...before.keys()], ["service-0"]);
    await Deno.writeTextFile(cert, "renewed certificate");
    assert.notEqual(serviceFingerprints(config).get("service-0"), before.get("service-0"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fingerprints: a service changes with its policy sections and their files, not with others'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/users`, "alice a\n");
    const svc = (name: string, extra: Record<string, unknown>) => ({
      name,
      addr: ":1",
      handler: { type: "http" },
      listener: { type: "tcp" },
      ...extra,
    });
    const a = {
      services: [
        svc("bp", { bypass: "b" }),
        svc("adm", { admissions: ["a"] }),
        { ...svc("auth", {}), handler: { type: "http", auther: "u" } },
        svc("plain", {}),
      ],
      bypasses: [{ name: "b", matchers: ["10.0.0.0/8"] }],
      admissions: [{ name: "a", matchers: ["10.9.9.9"] }],
      authers: [{ name: "u", file: { path: `${dir}/users` } }],
    } as unknown as Config;
    const fa = serviceFingerprints(a);
    const b = structuredClone(a) as unknown as {
      bypasses: { matchers: string[] }[];
      admissions: { whitelist: boolean }[];
    };
    b.bypasses[0].matchers.push("127.0.0.1");
    b.admissions[0].whitelist = true;
    await Deno.writeTextFile(`${dir}/users`, "alice a\nbob b\n");
    const fb = serviceFingerprints(b as unknown as Config);
    for (const name of ["bp", "adm", "auth"]) assert.notEqual(fa.get(name), fb.get(name), name);
    assert.equal(fa.get("plain"), fb.get("plain"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fingerprints: a service changes with its hosts and resolver, and with its hosts file's content", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/hosts`;
    await Deno.writeTextFile(file, "127.0.0.1 a.test\n");
    const a = {
      services: [{ ...fwd("x", 1, 2), hosts: "h", resolver: "r" }, fwd("y", 3, 4)],
      hosts: [{ name: "h", file: { path: file } }],
      resolvers: [{ name: "r", nameservers: [{ addr: "1.1.1.1" }] }],
    } as unknown as Config;
    const before = serviceFingerprints(a);
    const b = structuredClone(a) as unknown as { resolvers: { nameservers: { addr: string }[] }[] };
    b.resolvers[0].nameservers[0].addr = "tcp://1.1.1.1";
    assert.notEqual(serviceFingerprints(b as unknown as Config).get("x"), before.get("x"));
    await Deno.writeTextFile(file, "127.0.0.2 a.test b.test\n");
    const after = serviceFingerprints(a);
    assert.notEqual(after.get("x"), before.get("x"));
    assert.equal(after.get("y"), before.get("y"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fingerprints: a changed limits file (a loader's file.path) changes the services using it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/limits.txt`;
    await Deno.writeTextFile(file, "$ 1MB");
    const config = {
      services: [{ name: "a", addr: ":1", limiter: "lim", handler: { type: "http" } }, {
        name: "b",
        addr: ":2",
      }],
      limiters: [{ name: "lim", file: { path: file } }],
    } as unknown as Config;
    const before = serviceFingerprints(config);
    await Deno.writeTextFile(file, "$ 512KB 512KB");
    const after = serviceFingerprints(config);
    assert.notEqual(after.get("a"), before.get("a"));
    assert.equal(after.get("b"), before.get("b"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function readSome(conn: Deno.Conn): Promise<number | null> {
  const buf = new Uint8Array(16);
  return await conn.read(buf);
}

Deno.test("supervisor: a replaced service retires once its last live connection ends; stop ends everything", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  const sup = new Supervisor(rootLogger);
  const first: Config = { services: [fwd("s", port, echo.port)] };
  const r1 = (await buildRuntime(first)).runtime!;
  await sup.start(first, r1);
  const live = await Deno.connect({ hostname: "127.0.0.1", port });
  await live.write(new Uint8Array([1]));
  assert.equal(await readSome(live), 1);

  const second: Config = { services: [{ ...fwd("s", port, echo.port), metadata: { note: "v2" } }] };
  const summary = await sup.reload(second, (await buildRuntime(second)).runtime!);
  assert.deepEqual(summary, { kept: [], replaced: ["s"], added: [], removed: [] });
  assert.equal(sup.retiringCount, 1);
  assert.notEqual(sup.service("s"), r1.services[0]);
  await live.write(new Uint8Array([2]));
  assert.equal(await readSome(live), 1, "the live connection still flows through the old service");
  live.close();
  const end = Date.now() + 3000;
  while (sup.retiringCount) {
    if (Date.now() > end) throw new Error("the old service never retired");
    await new Promise((r) => setTimeout(r, 20));
  }

  // A second replacement with a live connection: stop() must end it rather than wait for it.
  const again = await Deno.connect({ hostname: "127.0.0.1", port });
  await again.write(new Uint8Array([3]));
  assert.equal(await readSome(again), 1);
  await sup.reload(first, (await buildRuntime(first)).runtime!);
  assert.equal(sup.retiringCount, 1);
  await sup.stop();
  assert.equal(sup.retiringCount, 0);
  assert.equal(await readSome(again).catch(() => null), null);
  again.close();
  echo.close();
});
