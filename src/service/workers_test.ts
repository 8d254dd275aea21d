import assert from "node:assert/strict";
import type { Config } from "../config/types.ts";
import { Logger } from "../core/log.ts";
import { tcpEchoServer, tcpRoundTrip, waitUntil } from "../../tests/_helpers.ts";
import { buildRuntime } from "./build.ts";
import { PORT_SHARING, withSharedPorts } from "./sharing.ts";
import { WorkerSupervisor } from "./workers.ts";

/** Worker modules that fail in each way a thread can: at load, and after answering its start. */
const FAILING: [string, RegExp][] = [
  [
    "data:text/javascript,throw new Error('boom at load')",
    /^worker 1: cannot start, the main thread serves without it: .*boom at load/,
  ],
  [
    "data:text/javascript,self.onmessage = (e) => { self.postMessage({ type: 'ok', seq: e.data.seq }); " +
    "setTimeout(() => { throw new Error('boom later'); }, 50); };",
    /^worker 1: died after \d+ ms \(.*boom later.*\); not restarted$/,
  ],
];

for (const [module, expected] of FAILING) {
  Deno.test({
    name: `workers: a thread that fails (${
      expected.source.slice(11, 40)
    }…) is logged; the main thread serves on`,
    ignore: !PORT_SHARING,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const echo = tcpEchoServer();
      const lines: { msg: string }[] = [];
      const log = new Logger({ level: "info", format: "json", sink: (l) => lines.push(JSON.parse(l)) });
      const config: Config = withSharedPorts({
        workers: 2,
        services: [{
          name: "s",
          addr: "127.0.0.1:0",
          handler: { type: "tcp" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: `127.0.0.1:${echo.port}` }] },
        }],
      });
      const { runtime } = await buildRuntime(config, log);
      const supervisor = new WorkerSupervisor(log, module);
      try {
        await supervisor.start(config, runtime!);
        await waitUntil(
          () => lines.some((l) => expected.test(l.msg)),
          () => `${expected}; log:\n${lines.map((l) => l.msg).join("\n")}`,
          10_000,
        );
        assert.equal(supervisor.workerCount, 0);
        const port = Number(supervisor.service("s")!.listener.addr.split(":").pop());
        const data = new Uint8Array(100_000).map((_, i) => i);
        assert.deepEqual(await tcpRoundTrip(port, data), data);
      } finally {
        await supervisor.stop();
        echo.close();
      }
    },
  });
}

Deno.test({
  name: "workers: a thread whose reload fails is started again on the new config, not left on the old one",
  ignore: !PORT_SHARING,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const echo = tcpEchoServer();
    const lines: { msg: string }[] = [];
    const log = new Logger({ level: "info", format: "json", sink: (l) => lines.push(JSON.parse(l)) });
    const config = (target: string): Config =>
      withSharedPorts({
        workers: 2,
        services: [{
          name: "s",
          addr: "127.0.0.1:0",
          handler: { type: "tcp" },
          listener: { type: "tcp" },
          forwarder: { nodes: [{ name: "t", addr: target }] },
        }],
      });
    // A thread that starts fine and refuses every reload.
    const module = "data:text/javascript,self.onmessage = (e) => self.postMessage(e.data.type === 'reload' " +
      "? { type: 'failed', error: 'refused', seq: e.data.seq } : { type: 'ok', seq: e.data.seq });";
    const first = config(`127.0.0.1:${echo.port}`);
    const supervisor = new WorkerSupervisor(log, module);
    try {
      await supervisor.start(first, (await buildRuntime(first, log)).runtime!);
      await waitUntil(() => lines.some((l) => /^workers: 2 threads accept/.test(l.msg)), "the worker");
      const second = config("127.0.0.1:9");
      await supervisor.reload(second, (await buildRuntime(second, log)).runtime!);
      assert.ok(
        lines.some((l) => l.msg === "worker 1: reload failed, starting it again on the new config: refused"),
        lines.map((l) => l.msg).join("\n"),
      );
      assert.equal(supervisor.workerCount, 1);
    } finally {
      await supervisor.stop();
      echo.close();
    }
  },
});
