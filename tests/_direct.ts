/**
 * Handler tests that check the relay after a proxy handshake stays on the sockets' direct path
 * (a plain read loop over a reused buffer: several times cheaper than piping Web Streams, see
 * docs/architecture.md). The duplexes here are real loopback sockets that record whether anyone
 * took their streams.
 * @module
 */
import { IODuplex } from "../src/core/duplex.ts";
import { Logger } from "../src/core/log.ts";
import type { HandlerContext, Router } from "../src/core/types.ts";
import type { HandlerInit } from "../src/handler/registry.ts";

/** An {@link IODuplex} over a socket that records whether its Web Streams were taken. */
export class ProbedSocket extends IODuplex {
  streamsTaken: string[] = [];
  constructor(readonly conn: Deno.Conn) {
    super(
      {
        read: (buf) => conn.read(buf),
        write: async (data) => {
          for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
        },
        closeWrite: () => conn.closeWrite().catch(() => {}),
      },
      () => {
        try {
          conn.close();
        } catch {
          // already closed
        }
      },
      "127.0.0.1:1",
      "127.0.0.1:2",
    );
  }
  override get readable(): ReadableStream<Uint8Array> {
    this.streamsTaken.push("readable");
    return super.readable;
  }
  override get writable(): WritableStream<Uint8Array> {
    this.streamsTaken.push("writable");
    return super.writable;
  }
}

/** A connected loopback pair: `client` is ours, `server` the accepted side as a {@link ProbedSocket}. */
export async function socketPair(): Promise<{ client: Deno.TcpConn; server: ProbedSocket }> {
  using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, accepted] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: l.addr.port }),
    l.accept(),
  ]);
  return { client, server: new ProbedSocket(accepted) };
}

/** A router whose every dial connects to `port` and hands back the socket as a {@link ProbedSocket}. */
export function probedRouter(port: number): Router & { dialled: ProbedSocket[] } {
  const dialled: ProbedSocket[] = [];
  return {
    dialled,
    hasChain: false,
    async dial() {
      const s = new ProbedSocket(await Deno.connect({ hostname: "127.0.0.1", port }));
      dialled.push(s);
      return s;
    },
    bind: () => Promise.reject(new Error("no bind")),
  };
}

/** What a handler under test is created with: a tcp service whose router dials `router`. */
export function handlerInit(router: Router): HandlerInit {
  return {
    path: "h",
    service: "s",
    addr: "",
    listenerType: "tcp",
    metadata: {},
    router,
  } as unknown as HandlerInit;
}

/** A handler context that logs nothing. */
export function quietContext(): HandlerContext {
  const log = new Logger({ level: "error", format: "json", sink: () => {} });
  return { log, record: {}, signal: new AbortController().signal };
}

/** Reads from `c` until `n` bytes came (or the stream ended). */
export async function readN(c: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await c.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return out.subarray(0, got);
}
