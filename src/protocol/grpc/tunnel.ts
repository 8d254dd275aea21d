/**
 * gost's gRPC tunnel (x/listener/grpc, x/dialer/grpc with grpc-go, as captured from gost 3.2.6):
 * one bidirectional-streaming call per tunnelled connection, on a shared HTTP/2 connection. Each
 * write is one gRPC message: flag 0, 4-byte length, then the protobuf `Chunk { bytes data = 1; }`.
 * The call is `POST /<service>/<method>` (default `/GostTunel/Tunnel`); the server refuses other
 * services and methods with gRPC status 12 (UNIMPLEMENTED) and a content type other than
 * application/grpc with HTTP 415, and sends its response headers with the first message.
 * @module
 */
import { ChunkReader } from "../../core/chunk_reader.ts";
import type { DirectIO, Duplex } from "../../core/duplex.ts";
import type { Logger } from "../../core/log.ts";
import { ErrorCode, Setting } from "../http2/frame.ts";
import type { HeaderField } from "../http2/hpack.ts";
import { Http2Session } from "../http2/session.ts";
import type { Http2Stream } from "../http2/stream.ts";

/** The default call path. */
export const DEFAULT_PATH = "/GostTunel/Tunnel";
/** grpc-go's default limit on a received message; larger writes are split. */
export const MAX_MESSAGE = 4 << 20;
/** What one message carries at most (below {@link MAX_MESSAGE} with room for the framing). */
const MAX_CHUNK = 1 << 20;
const MESSAGE_HEADER = 5;
/** Stream and connection windows we announce (grpc-go's estimator grows its own up to 16 MiB). */
const WINDOW = 4 << 20;
const CONNECTION_WINDOW = 16 << 20;

/** A gRPC message that breaks the framing (the call is reset). */
export class GrpcFramingError extends Error {
  constructor(message: string) {
    super(`grpc: ${message}`);
    this.name = "GrpcFramingError";
  }
}

/**
 * The call path for gost's `path` option: "/a" → "/a/Tunnel", "/a/b/c" → "/a/b-c" (the service
 * is the first segment, the rest joined with "-" is the method), "" → {@link DEFAULT_PATH}.
 */
export function callPath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0) return DEFAULT_PATH;
  return `/${parts[0]}/${parts.length > 1 ? parts.slice(1).join("-") : "Tunnel"}`;
}

/** One message carrying `data` (protobuf field 1, wire type 2). */
export function encodeMessage(data: Uint8Array): Uint8Array {
  const varint: number[] = [];
  for (let n = data.length;; n = Math.floor(n / 128)) {
    if (n < 128) {
      varint.push(n);
      break;
    }
    varint.push((n % 128) | 0x80);
  }
  const body = data.length ? 1 + varint.length + data.length : 0;
  const out = new Uint8Array(MESSAGE_HEADER + body);
  new DataView(out.buffer).setUint32(1, body);
  if (body) {
    out[MESSAGE_HEADER] = 0x0a;
    out.set(varint, MESSAGE_HEADER + 1);
    out.set(data, MESSAGE_HEADER + 1 + varint.length);
  }
  return out;
}

/** The `data` field of a `Chunk` message body (fields other than 1 are skipped, as protobuf does). */
export function decodeChunk(body: Uint8Array): Uint8Array {
  let pos = 0, data: Uint8Array = body.subarray(0, 0);
  const varint = () => {
    let v = 0;
    for (let shift = 0;; shift += 7) {
      if (pos >= body.length || shift > 28) throw new GrpcFramingError("bad varint in a message");
      const b = body[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (pos < body.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 2) {
      const len = varint();
      if (pos + len > body.length) throw new GrpcFramingError("field longer than its message");
      if (key >>> 3 === 1) data = body.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new GrpcFramingError(`unsupported wire type ${wire}`);
  }
  if (pos > body.length) throw new GrpcFramingError("truncated field");
  return data;
}

/**
 * A call's byte stream: writes become messages, messages become reads. `onFirstWrite` runs
 * before the first message goes out (the server sends its response headers there); `onEnd`
 * replaces the plain END_STREAM when our side ends (the server ends with trailers).
 */
export function grpcDuplex(
  stream: Http2Stream,
  onFirstWrite?: () => Promise<void>,
  onEnd?: () => Promise<void>,
): Duplex {
  const reader = new ChunkReader(stream);
  let pending: Uint8Array | null = null;
  let first = onFirstWrite;
  const next = async (): Promise<Uint8Array | null> => {
    for (;;) {
      const head = reader.take(MESSAGE_HEADER) ?? await reader.read(MESSAGE_HEADER, "grpc message header");
      if (!head) return null;
      if (head[0] !== 0) throw new GrpcFramingError("compressed message (no compression was negotiated)");
      const len = ((head[1] << 24) | (head[2] << 16) | (head[3] << 8) | head[4]) >>> 0;
      if (len > MAX_MESSAGE) throw new GrpcFramingError(`message of ${len} bytes over ${MAX_MESSAGE}`);
      const body = len === 0
        ? new Uint8Array(0)
        : reader.take(len) ?? await reader.readFull(len, "grpc message");
      const data = decodeChunk(body);
      if (data.length) return data;
    }
  };
  const write = async (data: Uint8Array) => {
    if (first) {
      const f = first;
      first = undefined;
      await f();
    }
    for (let off = 0; off < data.length; off += MAX_CHUNK) {
      await stream.write(encodeMessage(data.subarray(off, off + MAX_CHUNK)));
    }
  };
  const io: DirectIO = {
    async read(buf) {
      pending ??= await next();
      if (!pending) return null;
      const n = Math.min(buf.length, pending.length);
      buf.set(pending.subarray(0, n));
      pending = n < pending.length ? pending.subarray(n) : null;
      return n;
    },
    write,
    async closeWrite() {
      if (first) {
        const f = first;
        first = undefined;
        await f(); // the response headers come before the end
      }
      await (onEnd ? onEnd() : stream.end());
    },
  };
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  return {
    local: stream.local,
    remote: stream.remote,
    get direct() {
      return readable || writable ? undefined : io;
    },
    get readable() {
      return readable ??= new ReadableStream<Uint8Array>({
        pull: async (c) => {
          const d = pending ?? await next();
          pending = null;
          if (d) c.enqueue(d);
          else c.close();
        },
        cancel: () => stream.close(),
      }, { highWaterMark: 0 });
    },
    get writable() {
      return writable ??= new WritableStream<Uint8Array>({
        write,
        close: () => io.closeWrite(),
        abort: () => stream.close(),
      });
    },
    close: () => stream.close(),
  };
}

/** What a gRPC tunnel client sends: its call, and the authority. */
export interface CallOptions {
  path: string;
  authority: string;
  secure: boolean;
  /** HTTP/2 PINGs (gost's `keepalive`; off by default). */
  keepAlive?: { interval: number; timeout: number };
}

/** grpc-go's request headers, in its order. */
export function callHeaders(o: CallOptions): HeaderField[] {
  return [
    [":method", "POST"],
    [":scheme", o.secure ? "https" : "http"],
    [":path", callPath(o.path)],
    [":authority", o.authority],
    ["content-type", "application/grpc"],
    ["user-agent", "grpc-go/1.67.1"],
    ["te", "trailers"],
  ];
}

/** The client end: one call per stream, usable at once (grpc-go does not wait for headers). */
export class GrpcClient {
  readonly session: Http2Session;
  constructor(carrier: Duplex, readonly call: CallOptions, log?: Logger) {
    // grpc-go announces no settings and grows its windows by estimating the bandwidth-delay
    // product; fixed larger windows get the same throughput without the estimator's PINGs.
    this.session = new Http2Session(carrier, {
      client: true,
      settings: [[Setting.INITIAL_WINDOW_SIZE, WINDOW]],
      connectionWindowIncrement: CONNECTION_WINDOW,
      keepAlive: call.keepAlive,
      log,
    });
  }

  get closed(): boolean {
    return this.session.draining;
  }

  get done(): Promise<void> {
    return this.session.done;
  }

  close(): void {
    this.session.close();
  }

  async openStream(): Promise<Duplex> {
    return grpcDuplex(await this.session.request(callHeaders(this.call)));
  }
}

/** The server end: calls to the tunnel's path, each one accepted connection. */
export class GrpcServer {
  readonly session: Http2Session;
  readonly #path: string;
  constructor(conn: Duplex, path: string, keepAlive?: { interval: number; timeout: number }, log?: Logger) {
    this.#path = callPath(path);
    this.session = new Http2Session(conn, {
      client: false,
      settings: [[Setting.MAX_FRAME_SIZE, 16384], [Setting.INITIAL_WINDOW_SIZE, WINDOW]],
      connectionWindowIncrement: CONNECTION_WINDOW,
      keepAlive,
      log,
    });
  }

  get done(): Promise<void> {
    return this.session.done;
  }

  close(): void {
    this.session.close();
  }

  async accept(): Promise<Duplex | null> {
    for (;;) {
      const s = await this.session.accept();
      if (!s) return null;
      const refusal = this.#check(s);
      if (refusal) {
        await s.respond(refusal, true).catch(() => {});
        s.reset(ErrorCode.NO_ERROR);
        continue;
      }
      // Ending with status 0 in trailers lets a grpc-go client see a clean end of stream.
      return grpcDuplex(
        s,
        () => s.respond([[":status", "200"], ["content-type", "application/grpc"]]),
        () => s.respond([["grpc-status", "0"]], true),
      );
    }
  }

  /** The trailers-only answer refusing `s`, or null to accept it (as grpc-go answers). */
  #check(s: Http2Stream): HeaderField[] | null {
    const type = s.header("content-type") ?? "";
    if (!/^application\/grpc($|[+;])/.test(type)) {
      return [[":status", "415"], ["content-type", "text/plain"], ["grpc-status", "3"], [
        "grpc-message",
        `invalid gRPC request content-type ${JSON.stringify(type)}`,
      ]];
    }
    const path = s.header(":path") ?? "";
    if (path === this.#path) return null;
    const [, service = "", method = ""] = path.split("/");
    const [, wantService] = this.#path.split("/");
    const msg = service === wantService
      ? `unknown method ${method} for service ${service}`
      : `unknown service ${service}`;
    return [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "12"], [
      "grpc-message",
      msg,
    ]];
  }
}
