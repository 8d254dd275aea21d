/**
 * The relay protocol's wire format (GOST's own proxy/forwarding protocol): request,
 * response and feature TLVs. All integers are big-endian.
 *
 * ```
 * request:  VER(1)=1 | CMD(1) = FLAGS(high nibble) | CMD(low nibble) | FEALEN(2) | FEATURES
 * response: VER(1)=1 | STATUS(1) | FEALEN(2) | FEATURES
 * feature:  TYPE(1) | LEN(2) | DATA
 * ```
 * @module
 */
import { decodeSocksAddr, encodeSocksAddr, SocksAddrError } from "../../core/socks_addr.ts";
import type { BufferedReader } from "../../core/buffered_reader.ts";

export const VERSION = 0x01;

export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
/** Defined by the protocol; gost's server does not serve it (BadRequest). */
export const CMD_ASSOCIATE = 0x03;
export const CMD_MASK = 0x0f;
/** Deprecated "UDP request" flag; gost still sets it with the Network feature. */
export const FLAG_UDP = 0x80;

/** Response status codes. */
export const Status = {
  OK: 0x00,
  BadRequest: 0x01,
  Unauthorized: 0x02,
  Forbidden: 0x03,
  Timeout: 0x04,
  ServiceUnavailable: 0x05,
  HostUnreachable: 0x06,
  NetworkUnreachable: 0x07,
  InternalServerError: 0x08,
} as const;

const STATUS_TEXT: Record<number, string> = {
  0: "OK",
  1: "Bad Request",
  2: "Unauthorized",
  3: "Forbidden",
  4: "Timeout",
  5: "Service Unavailable",
  6: "Host Unreachable",
  7: "Network Unreachable",
  8: "Internal Server Error",
};

/** Human text of a status code. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `unknown status 0x${status.toString(16).padStart(2, "0")}`;
}

export const FEATURE_USER_AUTH = 0x01;
export const FEATURE_ADDR = 0x02;
export const FEATURE_TUNNEL = 0x03;
export const FEATURE_NETWORK = 0x04;

/** Network ids of the Network feature. */
export const NETWORK_IDS = { tcp: 0x0000, udp: 0x0001, ip: 0x0002, unix: 0x0010, serial: 0x0011 } as const;
export type RelayNetwork = keyof typeof NETWORK_IDS;

/** One decoded feature. Unknown types are kept opaque (newer peers may send them). */
export type Feature =
  | { type: "userAuth"; username: string; password: string }
  | { type: "addr"; addr: string }
  | { type: "network"; network: RelayNetwork }
  | { type: "tunnel"; data: Uint8Array }
  | { type: "opaque"; code: number; data: Uint8Array };

/** A decoded request. */
export interface RelayRequest {
  version: number;
  /** The command (low nibble). */
  cmd: number;
  /** The UDP flag (0x80) was set. */
  udp: boolean;
  features: Feature[];
}

/** A decoded response. */
export interface RelayResponse {
  version: number;
  status: number;
  features: Feature[];
}

/** Malformed relay bytes. */
export class RelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelayError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeFeature(f: Feature): Uint8Array {
  let data: Uint8Array;
  let code: number;
  switch (f.type) {
    case "userAuth": {
      const u = encoder.encode(f.username);
      const p = encoder.encode(f.password);
      if (u.length > 255 || p.length > 255) {
        throw new RelayError("username or password longer than 255 bytes");
      }
      data = new Uint8Array(2 + u.length + p.length);
      data[0] = u.length;
      data.set(u, 1);
      data[1 + u.length] = p.length;
      data.set(p, 2 + u.length);
      code = FEATURE_USER_AUTH;
      break;
    }
    case "addr":
      data = encodeSocksAddr(f.addr);
      code = FEATURE_ADDR;
      break;
    case "network": {
      const id = NETWORK_IDS[f.network];
      data = new Uint8Array([id >> 8, id & 0xff]);
      code = FEATURE_NETWORK;
      break;
    }
    case "tunnel":
      data = f.data;
      code = FEATURE_TUNNEL;
      break;
    case "opaque":
      data = f.data;
      code = f.code;
      break;
  }
  const out = new Uint8Array(3 + data.length);
  out[0] = code;
  out[1] = data.length >> 8;
  out[2] = data.length & 0xff;
  out.set(data, 3);
  return out;
}

function encodeMessage(b0: number, b1: number, features: Feature[], tail?: Uint8Array): Uint8Array {
  const parts = features.map(encodeFeature);
  const len = parts.reduce((s, p) => s + p.length, 0);
  if (len > 0xffff) throw new RelayError(`features too long (${len} bytes)`);
  const out = new Uint8Array(4 + len + (tail?.length ?? 0));
  out[0] = b0;
  out[1] = b1;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  let off = 4;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  if (tail) out.set(tail, off);
  return out;
}

/** Encodes a request; `tail` (first payload bytes) is appended in the same buffer. */
export function encodeRequest(
  req: { cmd: number; udp?: boolean; features: Feature[] },
  tail?: Uint8Array,
): Uint8Array {
  return encodeMessage(VERSION, (req.cmd & CMD_MASK) | (req.udp ? FLAG_UDP : 0), req.features, tail);
}

/** Encodes a response; `tail` is appended in the same buffer. */
export function encodeResponse(status: number, features: Feature[] = [], tail?: Uint8Array): Uint8Array {
  return encodeMessage(VERSION, status, features, tail);
}

/** Decodes the feature TLVs filling `buf`. Throws {@link RelayError} when malformed. */
export function decodeFeatures(buf: Uint8Array): Feature[] {
  const out: Feature[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 3) throw new RelayError("truncated feature header");
    const code = buf[off];
    const len = (buf[off + 1] << 8) | buf[off + 2];
    off += 3;
    if (buf.length - off < len) {
      throw new RelayError(`feature 0x${code.toString(16)} longer than the message`);
    }
    const data = buf.subarray(off, off + len);
    off += len;
    out.push(decodeFeature(code, data));
  }
  return out;
}

function decodeFeature(code: number, data: Uint8Array): Feature {
  switch (code) {
    case FEATURE_USER_AUTH: {
      if (data.length < 2) throw new RelayError("user auth feature too short");
      const ulen = data[0];
      if (data.length < 2 + ulen) throw new RelayError("user auth feature truncated");
      const plen = data[1 + ulen];
      if (data.length < 2 + ulen + plen) throw new RelayError("user auth feature truncated");
      return {
        type: "userAuth",
        username: decoder.decode(data.subarray(1, 1 + ulen)),
        password: decoder.decode(data.subarray(2 + ulen, 2 + ulen + plen)),
      };
    }
    case FEATURE_ADDR: {
      if (data.length < 4) throw new RelayError("address feature too short");
      try {
        return { type: "addr", addr: decodeSocksAddr(data).addr };
      } catch (err) {
        if (err instanceof SocksAddrError) throw new RelayError(`address feature: ${err.message}`);
        throw err;
      }
    }
    case FEATURE_NETWORK: {
      if (data.length < 2) throw new RelayError("network feature too short");
      const id = (data[0] << 8) | data[1];
      const name = (Object.keys(NETWORK_IDS) as RelayNetwork[]).find((k) => NETWORK_IDS[k] === id);
      return { type: "network", network: name ?? "tcp" };
    }
    case FEATURE_TUNNEL:
      return { type: "tunnel", data: data.slice() };
    default:
      return { type: "opaque", code, data: data.slice() };
  }
}

/** Decodes a complete request (`4 + FEALEN` bytes). */
export function decodeRequest(buf: Uint8Array): RelayRequest {
  if (buf.length < 4) throw new RelayError("truncated request header");
  return {
    version: buf[0],
    cmd: buf[1] & CMD_MASK,
    udp: (buf[1] & FLAG_UDP) !== 0,
    features: decodeFeatures(buf.subarray(4, 4 + ((buf[2] << 8) | buf[3]))),
  };
}

/** Decodes a complete response (`4 + FEALEN` bytes). */
export function decodeResponse(buf: Uint8Array): RelayResponse {
  if (buf.length < 4) throw new RelayError("truncated response header");
  return {
    version: buf[0],
    status: buf[1],
    features: decodeFeatures(buf.subarray(4, 4 + ((buf[2] << 8) | buf[3]))),
  };
}

/** Reads one whole message (header and features) from `r`; returns its bytes. */
export async function readMessage(r: BufferedReader, what = "relay header"): Promise<Uint8Array> {
  const head = await r.peek(4, what);
  const len = (head[2] << 8) | head[3];
  return await r.readExact(4 + len, what);
}

/** A refusal (non-OK status) from a relay server. */
export class RelayRefused extends Error {
  constructor(readonly node: string, readonly status: number) {
    super(`relay node ${node} refused: ${statusText(status)} (0x${status.toString(16).padStart(2, "0")})`);
    this.name = "RelayRefused";
  }
}

/** Reads and checks a relay response from `node`; returns its features. */
export async function readRelayResponse(r: BufferedReader, node: string): Promise<Feature[]> {
  const resp = decodeResponse(await readMessage(r, "relay response"));
  if (resp.version !== VERSION) throw new Error(`relay node ${node}: bad response version ${resp.version}`);
  if (resp.status !== Status.OK) throw new RelayRefused(node, resp.status);
  return resp.features;
}

/** The first feature of a type, typed. */
export function findFeature<T extends Feature["type"]>(
  features: Feature[],
  type: T,
): Extract<Feature, { type: T }> | undefined {
  return features.find((f) => f.type === type) as Extract<Feature, { type: T }> | undefined;
}
