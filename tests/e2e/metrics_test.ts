/**
 * `-metrics` through the real CLI: gost's metric names and labels after real traffic (requests
 * and bytes equal to what the test sent), the live output accepted by `promtool check metrics`,
 * Basic auth, a chain error counted, and a real Prometheus server scraping it.
 */
import { equal, match, ok } from "node:assert/strict";
import {
  freePort,
  peerTest,
  randomBytes,
  spawnProcess,
  startGost,
  tcpEchoServer,
  tcpRoundTrip,
  waitUntil,
} from "../_helpers.ts";

/** The value of the first sample whose line starts with `series` (name and labels), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function curl(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command("curl", { args: ["-s", ...args], stdout: "piped", stderr: "null" })
    .output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout) };
}

/** Runs `fn` with gost forwarding a fresh port to an echo server, metrics on `metricsPort`. */
async function withForward(
  metricsFlag: (port: number) => string,
  fn: (p: { fwd: number; metrics: number; text: () => Promise<string> }) => Promise<void>,
): Promise<void> {
  const echo = tcpEchoServer();
  const fwd = freePort();
  const metrics = freePort();
  const g = await startGost([
    "-L",
    `tcp://127.0.0.1:${fwd}/127.0.0.1:${echo.port}`,
    "-metrics",
    metricsFlag(metrics),
  ], 2);
  try {
    await fn({
      fwd,
      metrics,
      text: async () => (await curl([`http://127.0.0.1:${metrics}/metrics`])).out,
    });
  } finally {
    await g.stop();
    echo.close();
  }
}

const H = (host: string) => `host="${host}"`;

peerTest("metrics: requests, bytes, in-flight and durations count what was sent; promtool accepts them", [
  "curl",
  "promtool",
], async () => {
  await withForward((p) => `:${p}`, async ({ fwd, text }) => {
    const sizes = [1000, 20_000, 333];
    for (const [i, n] of sizes.entries()) {
      const back = await tcpRoundTrip(fwd, randomBytes(n, i + 1));
      equal(back.length, n);
    }
    const host = Deno.readTextFileSync("/proc/sys/kernel/hostname").trim();
    const svc = `{${H(host)},service="service-0",client="127.0.0.1"}`;
    let t = "";
    await waitUntil(async () => {
      t = await text();
      return sample(t, `gost_service_requests_total${svc}`) === 3 &&
        sample(t, `gost_service_transfer_output_bytes_total${svc}`) === 21_333;
    }, () => `counts after 3 connections:\n${t}`);
    equal(sample(t, `gost_service_transfer_input_bytes_total${svc}`), 21_333);
    equal(sample(t, `gost_service_requests_in_flight${svc}`), 0);
    equal(sample(t, `gost_services{${H(host)}}`), 1);
    equal(sample(t, `gost_service_request_duration_seconds_count{${H(host)},service="service-0"}`), 3);
    equal(
      sample(t, `gost_service_request_duration_seconds_bucket{${H(host)},service="service-0",le="+Inf"}`),
      3,
    );
    match(t, /# TYPE gost_service_request_duration_seconds histogram/);
    ok(!t.includes("gost_service_handler_errors_total"), "no errors happened");
    ok((sample(t, "process_resident_memory_bytes") ?? 0) > 1e6, "process_resident_memory_bytes");
    ok((sample(t, "process_cpu_seconds_total") ?? 0) > 0, "process_cpu_seconds_total");

    // promtool on the live output.
    const check = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const w = check.stdin.getWriter();
    await w.write(new TextEncoder().encode(t));
    await w.close();
    const res = await check.output();
    const said = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
    equal(res.code, 0, `promtool check metrics:\n${said}`);
  });
});

peerTest("metrics: Basic auth from -metrics user:pass@addr?path=, 401 without it", ["curl"], async () => {
  await withForward((p) => `u:s3cret@127.0.0.1:${p}?path=/m`, async ({ metrics }) => {
    const none = await curl(["-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${metrics}/m`]);
    equal(none.out, "401");
    const wrong = await curl([
      "-u",
      "u:nope",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://127.0.0.1:${metrics}/m`,
    ]);
    equal(wrong.out, "401");
    const good = await curl(["-u", "u:s3cret", `http://127.0.0.1:${metrics}/m`]);
    match(good.out, /gost_services\{/);
    const other = await curl([
      "-u",
      "u:s3cret",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `http://127.0.0.1:${metrics}/metrics`,
    ]);
    equal(other.out, "404");
  });
});

peerTest(
  "metrics: a chain node that cannot be reached counts in gost_chain_errors_total",
  ["curl"],
  async () => {
    const dead = freePort();
    const fwd = freePort();
    const metrics = freePort();
    const g = await startGost([
      "-L",
      `tcp://127.0.0.1:${fwd}/127.0.0.1:9`,
      "-F",
      `relay://127.0.0.1:${dead}`,
      "-metrics",
      `127.0.0.1:${metrics}`,
    ], 2);
    try {
      await tcpRoundTrip(fwd, new Uint8Array(10)).catch(() => {});
      let t = "";
      await waitUntil(async () => {
        t = (await curl([`http://127.0.0.1:${metrics}/metrics`])).out;
        return /gost_chain_errors_total\{host="[^"]+",chain="chain-0",node="node-0"\} 1/.test(t) &&
          /gost_service_handler_errors_total\{[^}]*service="service-0"[^}]*\} 1/.test(t);
      }, () => `chain and handler errors:\n${t}`);
    } finally {
      await g.stop();
    }
  },
);

peerTest("metrics: a real Prometheus server scrapes gost and its query API returns the request count", [
  "prometheus",
], async () => {
  await withForward((p) => `127.0.0.1:${p}`, async ({ fwd, metrics }) => {
    for (let i = 0; i < 2; i++) await tcpRoundTrip(fwd, new Uint8Array(100));
    const dir = await Deno.makeTempDir({ prefix: "gost-prom-" });
    const web = freePort();
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gost\n    static_configs:\n      - targets: ["127.0.0.1:${metrics}"]\n`,
    );
    const prom = spawnProcess("prometheus", [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${web}`,
    ]);
    try {
      let last = "";
      await waitUntil(
        async () => {
          try {
            const q = encodeURIComponent('sum(gost_service_requests_total{service="service-0"})');
            const r = await fetch(`http://127.0.0.1:${web}/api/v1/query?query=${q}`);
            last = await r.text();
            const v = JSON.parse(last)?.data?.result?.[0]?.value?.[1];
            return v === "2";
          } catch {
            return false;
          }
        },
        () => `prometheus query: ${last}\n${prom.stderr()}`,
        30_000,
      );
    } finally {
      await prom.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test({
  name: "metrics: with -metrics, one thread counts every connection (-workers 2 is said to be ignored)",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const echo = tcpEchoServer();
    const [fwd, metrics] = [freePort(), freePort()];
    const g = await startGost([
      "-workers",
      "2",
      "-metrics",
      `127.0.0.1:${metrics}`,
      "-L",
      `tcp://127.0.0.1:${fwd}/127.0.0.1:${echo.port}`,
    ], 2);
    try {
      match(g.stderr(), /warning: workers: 2 ignored: with api or metrics on/);
      for (let i = 0; i < 20; i++) await tcpRoundTrip(fwd, new Uint8Array(10));
      let t = "";
      await waitUntil(async () => {
        t = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
        return /gost_service_requests_total\{[^}]*\} 20$/m.test(t);
      }, () => `20 requests counted:\n${t}`);
      ok(!g.stderr().includes("threads accept connections"), g.stderr());
    } finally {
      await g.stop();
      echo.close();
    }
  },
});
