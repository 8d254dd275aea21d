/**
 * Sends one DNS query to one nameserver and returns its answer's bytes: over UDP, TCP, TLS
 * (DoT) or HTTPS (DoH, RFC 8484 POST), each through a {@link Router} so that a nameserver with
 * `chain:` is reached through that chain. Addresses as gost writes them: `1.1.1.1` (udp, port
 * 53), `udp://…`, `tcp://…`, `tls://…:853` (`dot://` too), `https://host/dns-query`.
 *
 * Like gost, TLS does not verify the server's certificate; `hostname` is the name sent (SNI).
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { concat } from "../core/bytes.ts";
import { directIO, writeHalf } from "../core/direct_io.ts";
import type { Duplex } from "../core/duplex.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Router } from "../core/types.ts";
import { getHeader, HttpError, parseResponseHead, readHead, responseBody } from "../protocol/http/http.ts";

/** gost's default time for one exchange. */
export const DEFAULT_TIMEOUT = 5000;
/** Largest answer read (a DNS message cannot be larger). */
const MAX_MESSAGE = 65535;

/** Where and how to reach one nameserver. */
export interface NameserverAddr {
  proto: "udp" | "tcp" | "tls" | "https";
  /** `host:port` dialled. */
  addr: string;
  /** For https: the URL the query is posted to. */
  url?: URL;
}

/** Parses a nameserver address; throws an Error saying what is wrong. */
export function parseNameserverAddr(raw: string): NameserverAddr {
  const s = raw.trim();
  if (s === "") throw new Error("empty nameserver address");
  const withScheme = s.includes("://") ? s : `udp://${s}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`malformed nameserver address ${JSON.stringify(raw)} (e.g. "udp://1.1.1.1:53")`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const proto = scheme === "dot" ? "tls" : scheme;
  if (proto !== "udp" && proto !== "tcp" && proto !== "tls" && proto !== "https") {
    throw new Error(
      `unknown nameserver protocol "${scheme}" in ${JSON.stringify(raw)} (udp, tcp, tls, https)`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw new Error(`nameserver address ${JSON.stringify(raw)} has no host`);
  const port = url.port ? Number(url.port) : proto === "https" ? 443 : 53;
  const addr = joinHostPort(host, port);
  splitHostPort(addr);
  if (proto === "https") return { proto, addr, url };
  if (url.pathname && url.pathname !== "/" || url.search) {
    throw new Error(`nameserver ${JSON.stringify(raw)}: only https addresses take a path`);
  }
  return { proto, addr };
}

/** Exchanges queries with one nameserver. */
export interface Exchanger {
  exchange(query: Uint8Array, ctx: DialContext): Promise<Uint8Array>;
  /** The address as configured, for logs. */
  readonly name: string;
}

export interface ExchangerOptions {
  /** Per exchange, ms. */
  timeout: number;
  /** TLS server name (tls/https); default: none for tls (gost), the URL host for https. */
  hostname: string;
}

function idOf(b: Uint8Array): number {
  return b.length >= 2 ? (b[0] << 8) | b[1] : -1;
}

/** One nameserver reached through a router. */
export class NetExchanger implements Exchanger {
  constructor(
    readonly name: string,
    readonly ns: NameserverAddr,
    readonly router: Router,
    readonly opts: ExchangerOptions,
  ) {}

  async exchange(query: Uint8Array, ctx: DialContext): Promise<Uint8Array> {
    let conn: Duplex | undefined;
    const ac = new AbortController();
    const run = async () => {
      conn = await this.router.dial(this.ns.proto === "udp" ? "udp" : "tcp", this.ns.addr, {
        log: ctx.log,
        signal: ac.signal,
      });
      if (this.ns.proto === "udp") return await udpExchange(conn, query);
      if (this.ns.proto === "tcp") return await streamExchange(conn, query);
      const serverName = this.opts.hostname ||
        (this.ns.url ? this.ns.url.hostname.replace(/^\[|\]$/g, "") : "");
      const alpn = this.ns.proto === "https" ? ["http/1.1"] : undefined;
      // node:tls loads only when a tls/https nameserver is first used (start-up stays light).
      const { tlsConnect } = await import("../core/tls/client.ts");
      conn = await tlsConnect(conn, { serverName, secure: false, alpn });
      if (this.ns.proto === "tls") return await streamExchange(conn, query);
      return await dohExchange(conn, this.ns.url!, query);
    };
    try {
      const answer = await deadline(run(), this.opts.timeout, `dns exchange with ${this.name}`, () => {
        ac.abort();
        conn?.close();
      });
      if (idOf(answer) !== idOf(query)) throw new Error(`answer from ${this.name} has another id`);
      return answer;
    } finally {
      conn?.close();
    }
  }
}

/** One datagram out; datagrams back until one carries the query's id (others are spoofs). */
async function udpExchange(conn: Duplex, query: Uint8Array): Promise<Uint8Array> {
  const io = directIO(conn);
  await io.write(query);
  const buf = new Uint8Array(MAX_MESSAGE);
  for (;;) {
    const n = await io.read(buf);
    if (n === null) throw new Error("nameserver closed without an answer");
    const answer = buf.subarray(0, n);
    if (idOf(answer) === idOf(query)) return answer.slice();
  }
}

/** RFC 1035 4.2.2: each message prefixed by its two-byte length. */
async function streamExchange(conn: Duplex, query: Uint8Array): Promise<Uint8Array> {
  const r = new BufferedReader(conn);
  const framed = concat([Uint8Array.of(query.length >> 8, query.length & 0xff), query]);
  await writeHalf(conn).write(framed);
  const len = await r.readExact(2, "dns answer length");
  return await r.readExact((len[0] << 8) | len[1], "dns answer");
}

async function readBody(
  r: BufferedReader,
  chunked: boolean,
  length: number | undefined,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const add = (b: Uint8Array) => {
    total += b.length;
    if (total > MAX_MESSAGE) throw new Error("DoH answer larger than a DNS message");
    parts.push(b);
  };
  if (length !== undefined) add(await r.readExact(Math.min(length, MAX_MESSAGE + 1), "DoH body"));
  else if (chunked) {
    for (;;) {
      const line = new TextDecoder().decode(await r.readUntil(new Uint8Array([13, 10]), 1024, "chunk size"));
      const size = parseInt(line, 16);
      if (!Number.isFinite(size)) throw new HttpError("bad chunk size in DoH answer");
      if (size === 0) break;
      add(await r.readExact(Math.min(size, MAX_MESSAGE + 1), "DoH chunk"));
      await r.readExact(2, "chunk end");
    }
  } else {
    while (await r.fill()) add(r.takeBuffered());
  }
  return concat(parts);
}

/** RFC 8484: POST the query as application/dns-message over HTTP/1.1. */
async function dohExchange(conn: Duplex, url: URL, query: Uint8Array): Promise<Uint8Array> {
  const head = `POST ${url.pathname || "/"}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Content-Type: application/dns-message\r\nAccept: application/dns-message\r\n` +
    `Content-Length: ${query.length}\r\nConnection: close\r\n\r\n`;
  const msg = concat([new TextEncoder().encode(head), query]);
  const r = new BufferedReader(conn);
  await writeHalf(conn).write(msg);
  const raw = await readHead(r, "DoH response head");
  if (!raw) throw new Error("DoH server closed without an answer");
  const res = parseResponseHead(raw);
  if (res.status !== 200) throw new Error(`DoH server returned status code ${res.status}`);
  const framing = responseBody("POST", res.status, res.headers);
  const length = framing.kind === "length" ? framing.length : framing.kind === "none" ? 0 : undefined;
  const type = getHeader(res.headers, "content-type");
  if (type && !type.toLowerCase().startsWith("application/dns-message")) {
    throw new Error(`DoH server answered ${JSON.stringify(type)}, not application/dns-message`);
  }
  return await readBody(r, framing.kind === "chunked", length);
}
