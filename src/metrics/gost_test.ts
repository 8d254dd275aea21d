import { equal, match, ok } from "node:assert/strict";
import { clientIP, GostMetrics, hostname, MAX_CLIENTS } from "./gost.ts";

Deno.test("gost metrics: a connection counts once at accept and once at its end, with gost's labels", () => {
  const m = new GostMetrics("h");
  const conn = m.opened("s0", "10.0.0.1");
  m.serviceUp(1);
  let t = m.registry.render();
  match(t, /^gost_service_requests_in_flight\{host="h",service="s0",client="10.0.0.1"\} 1$/m);
  match(t, /^gost_service_requests_total\{host="h",service="s0",client="10.0.0.1"\} 1$/m);
  m.closed(conn, 0.02, 100, 2000, true);
  m.chainError("chain-0", "node-0");
  t = m.registry.render();
  match(t, /^gost_services\{host="h"\} 1$/m);
  match(t, /^gost_service_requests_in_flight\{host="h",service="s0",client="10.0.0.1"\} 0$/m);
  match(t, /^gost_service_transfer_input_bytes_total\{host="h",service="s0",client="10.0.0.1"\} 100$/m);
  match(t, /^gost_service_transfer_output_bytes_total\{host="h",service="s0",client="10.0.0.1"\} 2000$/m);
  match(t, /^gost_service_handler_errors_total\{host="h",service="s0",client="10.0.0.1"\} 1$/m);
  match(t, /^gost_chain_errors_total\{host="h",chain="chain-0",node="node-0"\} 1$/m);
  match(t, /^gost_service_request_duration_seconds_bucket\{host="h",service="s0",le="0.01"\} 0$/m);
  match(t, /^gost_service_request_duration_seconds_bucket\{host="h",service="s0",le="0.025"\} 1$/m);
  match(t, /^gost_service_request_duration_seconds_count\{host="h",service="s0"\} 1$/m);
  // gost's buckets, in order.
  const les = [...t.matchAll(/le="([^"]+)"/g)].map((x) => x[1]);
  equal(les.join(" "), ".005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 15 30 60 +Inf".replace(/(^| )\./g, "$10."));
});

Deno.test("gost metrics: the client label is the address without its port", () => {
  equal(clientIP("127.0.0.1:5000"), "127.0.0.1");
  equal(clientIP("[::1]:5000"), "::1");
  equal(clientIP("[2001:db8::1]:1"), "2001:db8::1");
});

Deno.test("gost metrics: the host label is this machine's name", () => {
  const h = hostname();
  ok(h.length > 0 && !h.includes("\n"));
});

Deno.test("gost metrics: chain node connect latencies in gost's buckets", () => {
  const m = new GostMetrics("h");
  m.nodeConnected("chain-0", "node-0", 70);
  const t = m.registry.render();
  match(t, /^# TYPE gost_chain_node_connect_duration_seconds histogram$/m);
  match(
    t,
    /^gost_chain_node_connect_duration_seconds_bucket\{host="h",chain="chain-0",node="node-0",le="0.05"\} 0$/m,
  );
  match(
    t,
    /^gost_chain_node_connect_duration_seconds_bucket\{host="h",chain="chain-0",node="node-0",le="0.1"\} 1$/m,
  );
  match(
    t,
    /^gost_chain_node_connect_duration_seconds_bucket\{host="h",chain="chain-0",node="node-0",le="1.5"\} 1$/m,
  );
});

Deno.test('gost metrics: clients beyond MAX_CLIENTS per service share the client label "other"', () => {
  const m = new GostMetrics("h");
  for (let i = 0; i <= MAX_CLIENTS + 5; i++) {
    m.closed(m.opened("s0", `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`), 0, 1, 1, false);
  }
  m.closed(m.opened("s0", "10.0.0.0"), 0, 1, 1, false);
  equal(m.requests.series.size, MAX_CLIENTS + 1);
  equal(m.requests.get(["h", "s0", "other"]), 6);
  equal(m.requests.get(["h", "s0", "10.0.0.0"]), 2);
  equal(m.opened("s1", "10.9.9.9").labels[2], "10.9.9.9");
});
