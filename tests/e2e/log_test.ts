/**
 * Per-connection log lines in gost's shape: `sid` ties a connection's lines together, `duration`
 * is integer nanoseconds (Go's time.Duration in logrus JSON), `network` and `host` name the target.
 */
import assert from "node:assert/strict";
import { freePort, startGost, tcpEchoServer } from "../_helpers.ts";

type Line = Record<string, unknown> & { msg: string; level: string };

const linesOf = (stderr: string): Line[] =>
  stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

/** Sends an HTTP CONNECT to `target` through the proxy on `port`; resolves with the status line. */
async function connect(port: number, target: string, payload = ""): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(
      new TextEncoder().encode(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${payload}`),
    );
    const buf = new Uint8Array(4096);
    let text = "";
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (payload ? text.endsWith(payload) : text.includes("\r\n\r\n")) break;
    }
    return text.split("\r\n")[0];
  } finally {
    c.close();
  }
}

Deno.test("log: a connection's lines share one sid; the summary has gost's fields and types", async () => {
  const echo = tcpEchoServer();
  const port = freePort();
  const closed = freePort(); // nothing listens there: the dial fails
  const g = await startGost(["-D", "-L", `http://127.0.0.1:${port}`]);
  try {
    assert.match(await connect(port, `127.0.0.1:${echo.port}`, "ping"), /^HTTP\/1\.1 200/);
    assert.match(await connect(port, `127.0.0.1:${closed}`), /^HTTP\/1\.1 503/);
    await g.waitFor(new RegExp(`"msg":"[^"]* >< [^"]*"[^\\n]*127\\.0\\.0\\.1:${closed}`));
  } finally {
    await g.stop();
    await echo.close();
  }
  const lines = linesOf(g.stderr()).filter((l) => l.sid !== undefined);
  const summaries = lines.filter((l) => / >< /.test(l.msg));
  assert.equal(summaries.length, 2, g.stderr());
  // The two summaries may come in either order: each is found by its target.
  const ok = summaries.find((s) => s.host === `127.0.0.1:${echo.port}`)!;
  const failed = summaries.find((s) => s.host === `127.0.0.1:${closed}`)!;
  assert.ok(ok && failed, JSON.stringify(summaries));
  for (const s of summaries) {
    assert.equal(typeof s.sid, "string");
    assert.match(s.sid as string, /^[0-9a-v]{20}$/, "an xid");
    assert.ok(
      Number.isInteger(s.duration) && (s.duration as number) > 0,
      `duration ${s.duration} is integer ns`,
    );
    assert.ok((s.duration as number) < 30e9, "nanoseconds, not a larger unit");
    assert.ok(Number.isInteger(s.inputBytes) && Number.isInteger(s.outputBytes));
    assert.equal(s.kind, "handler");
    assert.equal(s.network, "tcp");
    assert.equal(s.level, "info");
    assert.match(s.msg, /^127\.0\.0\.1:\d+ >< 127\.0\.0\.1:\d+$/);
    assert.equal(s.remote, s.client);
    assert.equal(s.local, `127.0.0.1:${port}`);
  }
  assert.notEqual(ok.sid, failed.sid);
  assert.equal(ok.host, `127.0.0.1:${echo.port}`);
  assert.equal(ok.dst, ok.host);
  assert.ok(
    (ok.inputBytes as number) >= 4 && (ok.outputBytes as number) >= 4,
    "the payload counted both ways",
  );
  assert.equal(failed.host, `127.0.0.1:${closed}`);
  // Each connection's other lines (the start line at debug, the failure) carry its sid.
  const of = (sid: unknown) => lines.filter((l) => l.sid === sid);
  for (const s of summaries) assert.ok(of(s.sid).some((l) => / <> /.test(l.msg)), "a start line");
  const errors = of(failed.sid).filter((l) => l.level === "error");
  assert.equal(errors.length, 1, JSON.stringify(of(failed.sid)));
  assert.equal(errors[0].host, failed.host);
  assert.equal(of(ok.sid).filter((l) => l.level === "error").length, 0);
});
