import { equal, throws } from "node:assert/strict";
import { which } from "../../tests/_helpers.ts";
import { Registry } from "./registry.ts";

function sample(): Registry {
  const r = new Registry();
  const c = r.counter("gost_service_requests_total", "Total number of requests", [
    "host",
    "service",
    "client",
  ]);
  c.add(["h", "s0", "127.0.0.1"]);
  c.add(["h", "s0", "127.0.0.1"], 2);
  c.add(["h", 's"1\\', "::1"]);
  r.gauge("gost_services", "Current number of services", ["host"]).set(["h"], 2);
  const h = r.histogram("gost_service_request_duration_seconds", "Distribution of request latencies", [
    "host",
    "service",
  ], [.005, .01, 1]);
  for (const v of [0.001, 0.004, 0.5, 3]) h.observe(["h", "s0"], v);
  r.counter("unused_total", "never set", []);
  return r;
}

Deno.test("metrics registry: the text format with escaped labels and cumulative buckets; empty families left out", () => {
  equal(
    sample().render(),
    [
      "# HELP gost_service_requests_total Total number of requests",
      "# TYPE gost_service_requests_total counter",
      'gost_service_requests_total{host="h",service="s0",client="127.0.0.1"} 3',
      'gost_service_requests_total{host="h",service="s\\"1\\\\",client="::1"} 1',
      "# HELP gost_services Current number of services",
      "# TYPE gost_services gauge",
      'gost_services{host="h"} 2',
      "# HELP gost_service_request_duration_seconds Distribution of request latencies",
      "# TYPE gost_service_request_duration_seconds histogram",
      'gost_service_request_duration_seconds_bucket{host="h",service="s0",le="0.005"} 2',
      'gost_service_request_duration_seconds_bucket{host="h",service="s0",le="0.01"} 2',
      'gost_service_request_duration_seconds_bucket{host="h",service="s0",le="1"} 3',
      'gost_service_request_duration_seconds_bucket{host="h",service="s0",le="+Inf"} 4',
      'gost_service_request_duration_seconds_sum{host="h",service="s0"} 3.505',
      'gost_service_request_duration_seconds_count{host="h",service="s0"} 4',
      "",
    ].join("\n"),
  );
});

Deno.test("metrics registry: a wrong number of label values and a name declared twice are errors", () => {
  const r = new Registry();
  const c = r.counter("x_total", "x", ["a"]);
  throws(() => c.add(["1", "2"]), /2 label values for 1 labels/);
  throws(() => r.gauge("x_total", "again", []), /declared twice/);
});

Deno.test("metrics registry: promtool accepts the output", async () => {
  const promtool = which("promtool");
  if (!promtool) {
    if (Deno.env.get("CI") === "true") throw new Error("promtool (Debian prometheus) is missing");
    console.log("SKIP: promtool not installed");
    return;
  }
  const p = new Deno.Command(promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(sample().render()));
  await w.close();
  const out = await p.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  equal(out.code, 0, text);
});
