import { deepStrictEqual, equal, match } from "node:assert/strict";
import { Logger } from "../core/log.ts";
import { isAddressScope } from "./ip_table.ts";
import { parseTrafficLimit, type TrafficLimit } from "./limits.ts";
import { FileReloader } from "./source.ts";

Deno.test("source: a changed file is applied; a broken or vanished one is logged and the last limits stay", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/limits`;
    await Deno.writeTextFile(path, "$ 1MB\n");
    const applied: TrafficLimit[][] = [];
    const lines: string[] = [];
    const log = new Logger({
      level: "info",
      format: "json",
      sink: (l) => void lines.push(JSON.parse(l).msg),
    });
    const r = new FileReloader(path, 0, "$ 1MB\n", (l) => parseTrafficLimit(l, isAddressScope), (x) => {
      applied.push(x);
    }, log);
    await r.check();
    equal(applied.length, 0, "unchanged text: nothing to do");
    await Deno.writeTextFile(path, "# new\n$ 2MB 1KB\n");
    await r.check();
    deepStrictEqual(applied, [[{ scope: "$", in: 2 * 1024 * 1024, out: 1024 }]]);
    await Deno.writeTextFile(path, "$ 2MB\nnonsense 1MB\n");
    await r.check();
    equal(applied.length, 1);
    match(lines.at(-1)!, /line 2: unknown scope "nonsense".*the previous limits stay/);
    await Deno.remove(path);
    await r.check();
    equal(applied.length, 1);
    match(lines.at(-1)!, /No such file.*the previous limits stay/);
    r.retain();
    r.release(); // a period of 0 starts no timer
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
