/**
 * Test support: a recorder that plays a proxy server on loopback and records what a
 * connector sends, so connector bytes can be compared with captures from real gost.
 * @module
 */
import { concat } from "../src/core/bytes.ts";
import { Logger } from "../src/core/log.ts";
import { dialTCP } from "../src/dialer/tcp.ts";
import type { Duplex } from "../src/core/duplex.ts";
import { hex, toHex } from "./_helpers.ts";

export const quietLog = new Logger({ level: "error", format: "json", sink: () => {} });
export { hex, toHex };

/** One accepted connection and the bytes read from it so far. */
export interface Recorded {
  conn: Deno.Conn;
  /** Reads until at least `n` bytes arrived in total (or `ms` passed); returns all bytes. */
  read(n: number, ms?: number): Promise<Uint8Array>;
  write(hexBytes: string): Promise<void>;
}

/** Listens on loopback; `accept()` gives the next connection; `dial()` a duplex to it. */
export function recorder() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    dial: (): Promise<Duplex> => dialTCP(`127.0.0.1:${port}`),
    async accept(): Promise<Recorded> {
      const conn = await l.accept();
      let got = new Uint8Array(0);
      const buf = new Uint8Array(65536);
      // A read outlives a timed-out wait: keep it for the next call so no bytes are lost.
      let pending: Promise<number | null> | null = null;
      return {
        conn,
        async read(n, ms = 2000) {
          const end = Date.now() + ms;
          while (got.length < n && Date.now() < end) {
            let timer: ReturnType<typeof setTimeout> | undefined;
            pending ??= conn.read(buf);
            const k = await Promise.race([
              pending,
              new Promise<"t">((r) => timer = setTimeout(() => r("t"), Math.max(1, end - Date.now()))),
            ]);
            clearTimeout(timer);
            if (k === "t") break;
            pending = null;
            if (k === null) break;
            got = concat([got, buf.subarray(0, k)]);
          }
          return got;
        },
        async write(h) {
          await conn.write(hex(h));
        },
      };
    },
    close: () => l.close(),
  };
}
