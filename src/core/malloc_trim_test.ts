import assert from "node:assert/strict";
import { FFI_PATHS } from "./ffi.ts";
import { canTrim, mallocFreeBytes, nextBaseline, trimIfWorthIt } from "./malloc_trim.ts";

const MiB = 1 << 20;
const MODULE = JSON.stringify(new URL("./malloc_trim.ts", import.meta.url).href);

/** musl or an old glibc turn the reclaimer off; CI runs on Debian's glibc, where it must be on. */
function skipped(): boolean {
  if (canTrim()) return false;
  assert.notEqual(Deno.env.get("CI"), "true", "malloc_trim/mallinfo2 should be available on Debian's glibc");
  return true;
}

/** Runs `code` in a child deno with `flags`; returns its stdout. */
async function child(flags: string[], code: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", ...flags, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("malloc_trim: below the threshold nothing is trimmed", () => {
  if (skipped()) return;
  const r = trimIfWorthIt(Number.MAX_SAFE_INTEGER)!;
  assert.equal(r.trimmed, false);
  assert.ok(r.freeBytes >= 0);
});

Deno.test("malloc_trim: off without the libc grant, on with the one gost ships with", async () => {
  const code = `import { canTrim, trimIfWorthIt } from ${MODULE};
    console.log(JSON.stringify([canTrim(), trimIfWorthIt()]));`;
  assert.equal(await child([], code), "[false,null]");
  assert.equal(
    await child([`--allow-ffi=${FFI_PATHS.join(",")}`], code).then((t) => t.startsWith("[true,")),
    true,
  );
});

Deno.test("malloc_trim: memory freed after a burst of buffers goes back to the system", async () => {
  if (skipped()) return;
  // In a child with --expose-gc: 200 MiB in 2 KiB buffers (malloc'd from the arenas, below the
  // mmap threshold), dropped and collected; glibc keeps it as free arena memory until trimmed.
  const code = `import { mallocFreeBytes, trimIfWorthIt } from ${MODULE};
    let bufs = Array.from({ length: 100_000 }, () => new Uint8Array(2048).fill(1));
    const peak = Deno.memoryUsage().rss;
    bufs = [];
    globalThis.gc(); globalThis.gc();
    const free = mallocFreeBytes();
    const held = Deno.memoryUsage().rss;
    const r = trimIfWorthIt();
    console.log(JSON.stringify({ peak, free, held, after: Deno.memoryUsage().rss, r }));`;
  const text = await child([`--allow-ffi=${FFI_PATHS.join(",")}`, "--v8-flags=--expose-gc"], code);
  const m = JSON.parse(text);
  assert.ok(m.free > 100 * MiB, `malloc holds ${m.free / MiB} MiB free after the GC`);
  assert.ok(m.r.trimmed, text);
  assert.ok(m.held - m.after > 100 * MiB, `trim returned ${(m.held - m.after) / MiB} MiB: ${text}`);
});

Deno.test("malloc_trim: the free-memory figure is a byte count", () => {
  const free = mallocFreeBytes();
  assert.ok(Number.isSafeInteger(free) && free >= -1);
});

Deno.test("malloc_trim: after a trim, no new one until memory has grown again", () => {
  if (skipped()) return;
  const last = { rss: Deno.memoryUsage().rss, freeBytes: mallocFreeBytes() };
  assert.equal(trimIfWorthIt(0, last, 64 * MiB)!.trimmed, false, "nothing grew since the last trim");
  const earlier = { rss: last.rss - 64 * MiB, freeBytes: last.freeBytes };
  assert.equal(trimIfWorthIt(0, earlier, 64 * MiB)!.trimmed, true, "RSS grew since");
  assert.equal(trimIfWorthIt(0)!.trimmed, true, "the first trim needs only the threshold");
});

Deno.test("malloc_trim: the baseline follows RSS down between trims, so memory freed later is still trimmed", () => {
  const look = (rss: number, freeBytes: number, trimmed = false, releasedBytes = 0) => ({
    rss: rss * MiB,
    freeBytes: freeBytes * MiB,
    trimmed,
    releasedBytes: releasedBytes * MiB,
    ms: 0,
  });
  // A trim at the peak: the baseline is what it left.
  let since = nextBaseline(look(600, 300, true, 100));
  assert.deepEqual(since, { rss: 500 * MiB, freeBytes: 300 * MiB });
  // V8 gives its heap pages back by itself and malloc's free figure falls as chunks are reused.
  since = nextBaseline(look(200, 60), since);
  assert.deepEqual(since, { rss: 200 * MiB, freeBytes: 60 * MiB });
  // Later frees raise the free figure over that low point: a trim again (against the peak's
  // figure it would not be).
  if (skipped()) return;
  const now = { rss: Deno.memoryUsage().rss, freeBytes: mallocFreeBytes() };
  const low = { rss: now.rss + 1024 * MiB, freeBytes: now.freeBytes - 32 * MiB };
  assert.equal(trimIfWorthIt(0, low, 16 * MiB)!.trimmed, true, "the free figure grew by 32 MiB");
  const peak = { rss: now.rss + 1024 * MiB, freeBytes: now.freeBytes + 300 * MiB };
  assert.equal(trimIfWorthIt(0, peak, 16 * MiB)!.trimmed, false, "below the peak's figure");
});
