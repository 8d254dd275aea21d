/**
 * A client the soak kills mid-stream: opens `n` connections to 127.0.0.1:`port` and keeps
 * writing and reading on all of them until it is killed. Prints `streaming <n>` once all are open.
 * `deno run --allow-net=127.0.0.1 streamer.ts <port> <n>`
 * @module
 */
const [port, n] = Deno.args.map(Number);
const conns = await Promise.all(
  Array.from({ length: n }, () => Deno.connect({ hostname: "127.0.0.1", port })),
);
console.log(`streaming ${conns.length}`);
const chunk = new Uint8Array(16 * 1024).fill(0x61);
await Promise.all(conns.map(async (c) => {
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      await c.write(chunk);
      if ((await c.read(buf)) === null) return;
    }
  } catch {
    // gone
  }
}));
