import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { HttpEndpoint, isLoopback, parseEndpointAddr } from "./http_endpoint.ts";
import { Authenticator } from "./auth.ts";
import { Logger } from "./log.ts";

function logger(lines: string[]): Logger {
  return new Logger({ level: "info", format: "json", sink: (l) => lines.push(l) });
}

Deno.test("http endpoint: addresses and what counts as loopback", () => {
  deepStrictEqual(parseEndpointAddr(":9000", "metrics.addr"), { hostname: "127.0.0.1", port: 9000 });
  deepStrictEqual(parseEndpointAddr("[::1]:9000", "metrics.addr"), { hostname: "::1", port: 9000 });
  ok(isLoopback({ hostname: "127.0.0.1", port: 1 }));
  ok(isLoopback({ hostname: "::1", port: 1 }));
  ok(isLoopback({ path: "/run/x.sock" }));
  ok(!isLoopback({ hostname: "0.0.0.0", port: 1 }));
  ok(!isLoopback({ hostname: "::", port: 1 }));
});

Deno.test("http endpoint: Basic auth, a warning when open beyond loopback", async () => {
  const lines: string[] = [];
  const open = HttpEndpoint.start({
    name: "@t",
    addr: { hostname: "0.0.0.0", port: 0 },
    log: logger(lines),
    handler: () => new Response("hi"),
    unauthorized: () => new Response(null, { status: 401 }),
  });
  await open.close();
  ok(lines.some((l) => l.includes("without auth")), lines.join("\n"));
  const quiet: string[] = [];
  let closed = 0;
  const ep = HttpEndpoint.start({
    name: "@t",
    addr: { hostname: "127.0.0.1", port: 0 },
    auther: Object.assign(new Authenticator("u", "p"), { close: () => closed++ }),
    log: logger(quiet),
    handler: () => new Response("hi"),
    unauthorized: () => new Response(null, { status: 401 }),
  });
  try {
    ok(!quiet.some((l) => l.includes("without auth")));
    const url = `http://${ep.addr}/`;
    const status = async (h?: string) => {
      const r = await fetch(url, { headers: h ? { authorization: h } : {} });
      await r.body?.cancel();
      return r.status;
    };
    equal(await status(), 401);
    equal(await status("Basic " + btoa("u:x")), 401);
    equal(await status("Basic " + btoa("u:p")), 200);
  } finally {
    await ep.close();
  }
  equal(closed, 1, "the auther's file watches end with the endpoint");
});
