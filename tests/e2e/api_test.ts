/**
 * The Web API through the real CLI (`-api` alone: an empty program configured through it):
 * Basic auth, creating a service and carrying traffic through it, its status in GET /config,
 * gost's error codes for bad requests (nothing of a refused change applied), deleting a service
 * closes its port, and a chain updated while a connection through the old one finishes.
 */
import { deepStrictEqual, equal, match, rejects } from "node:assert/strict";
import { deadline } from "../../src/core/timeout.ts";
import {
  decoder,
  encoder,
  freePort,
  type GostProcess,
  randomBytes,
  runGost,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  waitUntil,
} from "../_helpers.ts";

const AUTH = "Basic " + btoa("admin:s3cret");

/** A client of one gost's API. */
function api(port: number) {
  return async (method: string, path: string, body?: unknown, auth = AUTH) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: auth ? { authorization: auth } : {},
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch { /* yaml or text */ }
    return { status: r.status, headers: r.headers, text, json };
  };
}

async function withApi(
  fn: (call: ReturnType<typeof api>, g: GostProcess, port: number) => Promise<void>,
): Promise<void> {
  const port = freePort();
  const g = await startGost(["-api", `admin:s3cret@:${port}?accesslog=true`]);
  try {
    await fn(api(port), g, port);
  } finally {
    await g.stop();
  }
}

const forwardService = (name: string, port: number, target: number, chain?: string) => ({
  name,
  addr: `127.0.0.1:${port}`,
  handler: chain ? { type: "tcp", chain } : { type: "tcp" },
  listener: { type: "tcp" },
  forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${target}` }] },
});

async function closed(port: number): Promise<void> {
  await rejects(
    Deno.connect({ hostname: "127.0.0.1", port }).then((c) => c.close()),
    `port ${port} still open`,
  );
}

Deno.test({
  name: "api: wrong or missing credentials get 401 with gost's body and WWW-Authenticate: Basic",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withApi(async (call, g, port) => {
      for (const auth of ["", "Basic " + btoa("admin:wrong"), "Basic " + btoa("nobody:s3cret")]) {
        const r = await call("GET", "/config", undefined, auth);
        equal(r.status, 401);
        deepStrictEqual(r.json, { code: 401, msg: "Unauthorized" });
        equal(r.headers.get("www-authenticate"), "Basic");
      }
      const ok200 = await call("GET", "/config");
      equal(ok200.status, 200);
      // ?accesslog=true: one line per request, refusals included, with gost's fields.
      await g.waitFor(/"kind":"api","method":"GET","uri":"\/config","code":200/);
      await g.waitFor(/"uri":"\/config","code":401,"client":"127\.0\.0\.1"/);
      const pre = await fetch(`http://127.0.0.1:${port}/config/services`, {
        method: "OPTIONS",
        headers: { origin: "https://ui.example", "access-control-request-method": "POST" },
      });
      await pre.body?.cancel();
      equal(pre.status, 204);
      equal(pre.headers.get("access-control-allow-origin"), "*");
      equal(ok200.headers.get("access-control-allow-origin"), "*");
      const docs = await call("GET", "/docs/swagger.yaml", undefined, "");
      equal(docs.status, 200);
      match(docs.text, /\/config\/services/);
    }),
});

Deno.test({
  name:
    "api: a service created through the API carries traffic, shows its stats, and its port closes on delete",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withApi(async (call) => {
      const echo = tcpEchoServer();
      const port = freePort();
      try {
        const r = await call("POST", "/config/services", forwardService("fwd", port, echo.port));
        equal(r.status, 200, r.text);
        deepStrictEqual(r.json, { msg: "OK" });
        const data = randomBytes(5000);
        deepStrictEqual(await tcpRoundTrip(port, data), data);
        let svc: any;
        await waitUntil(async () => {
          svc = (await call("GET", "/config")).json.services[0];
          return svc.status?.stats?.totalConns === 1 && svc.status.stats.outputBytes === 5000;
        }, () => `status after one connection: ${JSON.stringify(svc)}`);
        equal(svc.name, "fwd");
        equal(svc.status.state, "ready");
        deepStrictEqual(svc.status.stats, {
          totalConns: 1,
          currentConns: 0,
          totalErrs: 0,
          inputBytes: 5000,
          outputBytes: 5000,
        });
        match(svc.status.events[0].msg, /service fwd is listening on 127\.0\.0\.1:/);
        const yaml = await call("GET", "/config?format=yaml");
        match(yaml.headers.get("content-type") ?? "", /yaml/);
        match(yaml.text, /name: fwd/);
        const list = await call("GET", "/config/services");
        equal(list.json.data.count, 1);

        const del = await call("DELETE", "/config/services/fwd");
        deepStrictEqual(del.json, { msg: "OK" });
        await waitUntil(async () => {
          try {
            await closed(port);
            return true;
          } catch {
            return false;
          }
        }, `port ${port} closed after DELETE`);
        equal((await call("GET", "/config/services")).json.data.count, 0);
      } finally {
        echo.close();
      }
    }),
});

Deno.test({
  name:
    "api: malformed, nameless, duplicate, unknown and invalid changes get gost's codes; nothing is applied",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withApi(async (call) => {
      const echo = tcpEchoServer();
      const port = freePort();
      try {
        equal((await call("POST", "/config/services", forwardService("a", port, echo.port))).status, 200);
        const bad = await call("POST", "/config/services", "{not json");
        equal(bad.status, 400);
        equal(bad.json.code, 40001);
        match(bad.json.msg, /invalid JSON/);
        const nameless = await call("POST", "/config/services", { addr: ":1" });
        deepStrictEqual([nameless.status, nameless.json], [400, {
          code: 40001,
          msg: "service name is required",
        }]);
        const dup = await call("POST", "/config/services", forwardService("a", freePort(), echo.port));
        deepStrictEqual([dup.status, dup.json], [400, { code: 40002, msg: "service a already exists" }]);
        for (const [method, path] of [["DELETE", "/config/services/nope"], ["PUT", "/config/chains/nope"]]) {
          const r = await call(method, path, method === "PUT" ? { hops: [] } : undefined);
          equal(r.status, 400, `${method} ${path}`);
          equal(r.json.code, 40004);
          match(r.json.msg, / nope not found$/);
        }
        // A service naming a chain that does not exist: refused with the config error, as a file would be.
        const invalid = await call(
          "POST",
          "/config/services",
          forwardService("b", freePort(), echo.port, "missing"),
        );
        equal(invalid.status, 400);
        equal(invalid.json.code, 40003);
        match(invalid.json.msg, /create service b failed: .*chain "missing" does not exist/);
        // A port already taken: refused at listen time, the running config untouched.
        const taken = await call("PUT", "/config/services/a", {
          ...forwardService("a", echo.port, echo.port),
        });
        equal(taken.json.code, 40003);
        const list = (await call("GET", "/config/services")).json.data;
        equal(list.count, 1);
        equal(list.list[0].addr, `127.0.0.1:${port}`);
        deepStrictEqual(await tcpRoundTrip(port, encoder.encode("still")), encoder.encode("still"));
      } finally {
        echo.close();
      }
    }),
});

/** Opens a connection through `port` and echoes `n` bytes on it; the caller closes it. */
async function openEcho(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const echo = async (text: string) => {
    await conn.write(encoder.encode(text));
    const buf = new Uint8Array(text.length);
    let got = 0;
    while (got < text.length) {
      const n = await deadline(conn.read(buf.subarray(got)), 5000, "echo");
      if (n === null) throw new Error("connection ended");
      got += n;
    }
    equal(decoder.decode(buf), text);
  };
  return { conn, echo };
}

Deno.test({
  name:
    "api: a chain updated while a connection goes through the old one: it finishes there, new ones take the new",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const echo = tcpEchoServer();
    const [r1, r2] = [freePort(), freePort()];
    const relays = await startGost(["-L", `relay://127.0.0.1:${r1}`, "-L", `relay://127.0.0.1:${r2}`], 2);
    try {
      await withApi(async (call) => {
        const chain = (relay: number) => ({
          name: "c",
          hops: [{
            name: "h",
            nodes: [{ name: "n", addr: `127.0.0.1:${relay}`, connector: { type: "relay" } }],
          }],
        });
        equal((await call("POST", "/config/chains", chain(r1))).status, 200);
        const port = freePort();
        const made = await call("POST", "/config/services", forwardService("s", port, echo.port, "c"));
        equal(made.status, 200, made.text);
        const old = await openEcho(port);
        await old.echo("before");
        const served = (svc: string) =>
          relays.stderr().split("\n").filter((l) => l.includes(`"service":"${svc}"`));
        const upd = await call("PUT", "/config/chains/c", chain(r2));
        deepStrictEqual(upd.json, { msg: "OK" });
        await old.echo("after the update, on the old chain");
        const fresh = await openEcho(port);
        await fresh.echo("new");
        fresh.conn.close();
        old.conn.close();
        await waitUntil(
          () =>
            served("service-1").some((l) => l.includes("><")) &&
            served("service-0").some((l) => l.includes("><")),
          () => `one connection ended on each relay:\n${relays.stderr()}`,
        );
      });
    } finally {
      await relays.stop();
      echo.close();
    }
  },
});

Deno.test({
  name: "api: GOST_API starts it; an API address already taken stops the start with exit 3",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const port = freePort();
    const g = await startGost(["-L", `tcp://127.0.0.1:${freePort()}/127.0.0.1:9`], 2, {
      env: { GOST_API: `127.0.0.1:${port}` },
    });
    try {
      const r = await api(port)("GET", "/config/services", undefined, "");
      equal(r.json.data.count, 1);
      const again = await runGost([
        "-L",
        `tcp://127.0.0.1:${freePort()}/127.0.0.1:9`,
        "-api",
        `127.0.0.1:${port}`,
      ]);
      equal(again.code, 3, again.stderr);
      match(again.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
    } finally {
      await g.stop();
    }
  },
});

Deno.test({
  name:
    "api: with -metrics, gost_services follows services created and deleted through the API; ignored sections are refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const [apiPort, metricsPort, port] = [freePort(), freePort(), freePort()];
    const g = await startGost(["-api", `127.0.0.1:${apiPort}`, "-metrics", `127.0.0.1:${metricsPort}`], 2);
    const call = api(apiPort);
    const services = async () => {
      const t = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(/^gost_services\{host="[^"]+"\} (\d+)$/m.exec(t)?.[1] ?? 0);
    };
    try {
      equal(await services(), 0);
      equal((await call("POST", "/config/services", forwardService("s", port, 9), "")).status, 200);
      equal(await services(), 1);
      equal((await call("DELETE", "/config/services/s", undefined, "")).status, 200);
      equal(await services(), 0);
      // gost-deno does not serve top-level hops yet: refused rather than accepted and ignored.
      const hop = await call("POST", "/config/hops", {
        name: "h",
        nodes: [{ name: "n", addr: "127.0.0.1:1" }],
      }, "");
      equal(hop.json.code, 40003);
      match(hop.json.msg, /create hop h failed: hops: section not supported/);
      equal((await call("GET", "/config/hops", undefined, "")).json.data.count, 0);
      // Without auth, a web page's request (it carries Origin) cannot change anything.
      const csrf = await fetch(`http://127.0.0.1:${apiPort}/config/services`, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain" },
        body: JSON.stringify(forwardService("x", freePort(), 9)),
      });
      equal(csrf.status, 403);
      match((await csrf.json()).msg, /need the API's auth/);
      equal((await call("GET", "/config/services", undefined, "")).json.data.count, 0);
    } finally {
      await g.stop();
    }
  },
});

Deno.test("api: the api: and metrics: sections of a config file; an undefined auther is refused at start (exit 1)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/gost.yaml`,
      `api:\n  addr: 127.0.0.1:${port}\n  pathPrefix: /gost\n  auth:\n    username: admin\n    password: s3cret\n`,
    );
    const g = await startGost(["-C", `${dir}/gost.yaml`]);
    try {
      equal((await api(port)("GET", "/gost/config/services")).json.data.count, 0);
      equal((await api(port)("GET", "/config/services")).status, 404);
    } finally {
      await g.stop();
    }
    await Deno.writeTextFile(`${dir}/bad.yaml`, `metrics:\n  addr: ":9000"\n  auther: auther-0\n`);
    const r = await runGost(["-C", `${dir}/bad.yaml`, "-api", `127.0.0.1:${freePort()}`]);
    equal(r.code, 1, r.stderr);
    match(r.stderr, /metrics\.auther: no auther named "auther-0" in authers/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
