/**
 * A small DNS server for tests, on 127.0.0.1: UDP, TCP, TLS (DoT) and HTTPS (DoH POST), all
 * answering from one table of names. Names not in the table get NXDOMAIN.
 */
import { selfSignedCert } from "../src/core/tls/selfsigned.ts";
import { decodeMessage, encodeResponse, type Message, RCode, RRType } from "../src/protocol/dns/dns.ts";
import { parseIPv6 } from "../src/core/addr.ts";

export interface DnsTestServer {
  udp: number;
  tcp: number;
  tls: number;
  https: number;
  /** Questions received, as "proto name type". */
  log: string[];
  /** The raw queries received, in order. */
  queries: Message[];
  close(): Promise<void>;
}

/** name → addresses (IPv4 and IPv6 literals), with one TTL for all. */
export type DnsTable = Record<string, string[]>;

function answer(table: DnsTable, ttl: number, q: Message): Uint8Array {
  const question = q.questions[0];
  const ips = question ? table[question.name] : undefined;
  if (!ips) return encodeResponse(q, [], RCode.NXDomain);
  const want = question.type;
  const records = ips.flatMap((ip) => {
    const v4 = !ip.includes(":");
    if ((want === RRType.A) !== v4 || (want !== RRType.A && want !== RRType.AAAA)) return [];
    const data = v4 ? Uint8Array.from(ip.split(".").map(Number)) : parseIPv6(ip)!;
    return [{ name: question.name, type: want, ttl, data }];
  });
  return encodeResponse(q, records);
}

async function readFull(c: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await c.read(buf.subarray(off));
    if (got === null) return null;
    off += got;
  }
  return buf;
}

/** Starts the server; `ttl` is the TTL of every answer record. */
export async function startDnsServer(table: DnsTable, ttl = 60): Promise<DnsTestServer> {
  const log: string[] = [];
  const queries: Message[] = [];
  const handle = (proto: string, bytes: Uint8Array): Uint8Array => {
    const q = decodeMessage(bytes);
    queries.push(q);
    log.push(`${proto} ${q.questions[0]?.name} ${q.questions[0]?.type}`);
    return answer(table, ttl, q);
  };
  const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pair = await selfSignedCert({ hosts: ["127.0.0.1", "dns.test"] });
  const tls = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key });
  const conns = new Set<Deno.Conn>();
  const serveStream = (proto: string, l: Deno.Listener) =>
    (async () => {
      for await (const c of l) {
        conns.add(c);
        (async () => {
          try {
            for (;;) {
              const len = await readFull(c, 2);
              if (!len) break;
              const q = await readFull(c, (len[0] << 8) | len[1]);
              if (!q) break;
              const a = handle(proto, q);
              await c.write(Uint8Array.of(a.length >> 8, a.length & 0xff));
              await c.write(a);
            }
          } catch {
            /* client gone */
          } finally {
            conns.delete(c);
            try {
              c.close();
            } catch { /* closed */ }
          }
        })();
      }
    })().catch(() => {});
  const loops = [
    (async () => {
      const buf = new Uint8Array(65535);
      for (;;) {
        const [data, from] = await udp.receive(buf);
        try {
          await udp.send(handle("udp", data), from);
        } catch { /* malformed query */ }
      }
    })().catch(() => {}),
    serveStream("tcp", tcp),
    serveStream("tls", tls),
  ];
  const ac = new AbortController();
  const https = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: pair.cert,
    key: pair.key,
    signal: ac.signal,
    onListen: () => {},
  }, async (req) => {
    if (req.method !== "POST" || req.headers.get("content-type") !== "application/dns-message") {
      return new Response("bad request", { status: 400 });
    }
    const a = handle("https", new Uint8Array(await req.arrayBuffer()));
    return new Response(new Uint8Array(a), { headers: { "content-type": "application/dns-message" } });
  });
  return {
    udp: (udp.addr as Deno.NetAddr).port,
    tcp: (tcp.addr as Deno.NetAddr).port,
    tls: (tls.addr as Deno.NetAddr).port,
    https: https.addr.port,
    log,
    queries,
    async close() {
      udp.close();
      tcp.close();
      tls.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      ac.abort();
      await https.finished;
      await Promise.allSettled(loops);
    },
  };
}
