/**
 * The soak's target: a TCP echo server in a process of its own (so that the soak's clients
 * and the echo's sockets do not share one descriptor limit, and so that it can be killed
 * mid-stream). `deno run --allow-net=127.0.0.1 echo.ts <port>`; prints `echo ready <port>`.
 * @module
 */
const port = Number(Deno.args[0] ?? 0);
const l = Deno.listen({ hostname: "127.0.0.1", port });
console.log(`echo ready ${(l.addr as Deno.NetAddr).port}`);

async function serve(c: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await c.write(buf.subarray(off, n));
    }
    await c.closeWrite();
  } catch {
    // peer reset
  } finally {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

for (;;) {
  try {
    serve(await l.accept());
  } catch {
    // a failed accept (descriptor shortage, reset before accept) must not end the server
    await new Promise((r) => setTimeout(r, 5));
  }
}
