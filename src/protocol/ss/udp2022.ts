/**
 * Shadowsocks 2022 UDP (SIP022 §3.2), pure packet codec:
 *
 * ```
 * packet   = AES-ECB(psk, separate header) | AEAD(session subkey, nonce = header[4..16])(body)
 * separate = session id (8) | packet id (u64 BE)
 * body     = type (1) | timestamp (u64 BE, s) | [client session id (8), server only]
 *            | padding length (u16 BE) | padding | SOCKS address | payload
 * subkey   = BLAKE3 derive_key("shadowsocks 2022 session subkey", psk ‖ session id)
 * ```
 *
 * gost 3.2.6 departs from SIP022 in the subkey: it derives it from the session id's 8 bytes in
 * reverse order (it reads the id as a big-endian u64 and writes it little-endian as the salt).
 * A key therefore carries its {@link KeyOrder}; the sessions choose it.
 *
 * A session is one random session id with its own subkey and packet counter, started by
 * either side (a server answers a client session from a session of its own). Session tables,
 * replay windows and timeouts live with the handler and connector; this module only seals
 * and opens, and says why a packet was dropped.
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { decodeSocksAddr, socksAddrLength } from "../../core/socks_addr.ts";
import { Aead, type MethodInfo, sessionSubkey, TAG_SIZE } from "./cipher.ts";
import { MAX_TIME_DIFF_S, TYPE_CLIENT, TYPE_SERVER } from "./stream.ts";

export { TYPE_CLIENT, TYPE_SERVER };

/** Bytes of the (encrypted) separate header. */
export const SEPARATE_HEADER_SIZE = 16;
/** Bytes of a session id. */
export const SESSION_ID_SIZE = 8;
/** Smallest packet: separate header, type, timestamp, padding length, shortest address, tag. */
const MIN_PACKET = SEPARATE_HEADER_SIZE + 1 + 8 + 2 + 4 + TAG_SIZE;

/** Why a packet was dropped (counted and logged by the caller; the sender hears nothing). */
export type DropReason =
  | "short" // shorter than any valid packet
  | "auth" // the body does not authenticate (wrong key, forged, or not for this session)
  | "type" // a client packet where a server packet belongs, or the reverse
  | "timestamp" // more than 30 s from our clock: a replay
  | "replay" // packet id already seen or older than the window
  | "header" // padding or address malformed
  | "session" // a server packet for another client session, or one server session too many
  | "full"; // a new client session while the server's session table is full

/**
 * The block cipher over the PSK that hides separate headers. One long-lived ECB context each
 * way: ECB has no state between blocks, so each 16-byte update is one independent block.
 */
export class SeparateHeaderCipher {
  readonly #enc;
  readonly #dec;

  constructor(psk: Uint8Array) {
    const alg = `aes-${psk.length * 8}-ecb`;
    this.#enc = createCipheriv(alg, psk, null).setAutoPadding(false);
    this.#dec = createDecipheriv(alg, psk, null).setAutoPadding(false);
  }

  /** Encrypts the 16-byte `plain` into `out` at `off`. */
  encrypt(plain: Uint8Array, out: Uint8Array, off: number): void {
    out.set(this.#enc.update(plain), off);
  }

  /** Decrypts the first 16 bytes of `packet` (a fresh array). */
  decrypt(packet: Uint8Array): Uint8Array {
    const b = this.#dec.update(packet.subarray(0, SEPARATE_HEADER_SIZE));
    return new Uint8Array(b.buffer, b.byteOffset, SEPARATE_HEADER_SIZE);
  }
}

/**
 * How a session id becomes the subkey's salt: `spec` (SIP022) uses its bytes as on the wire,
 * `gost` (gost 3.2.6, both its client and its server) uses them reversed.
 */
export type KeyOrder = "gost" | "spec";

/** One side of a session: its id and the AEAD under its subkey. */
export interface SessionKey {
  /** The 8-byte session id. */
  readonly id: Uint8Array;
  readonly aead: Aead;
  /** How the subkey was derived from the id. */
  readonly order: KeyOrder;
}

/** The key of session `id` (8 bytes) under `psk`, its subkey derived in `order`. */
export function sessionKey(
  method: MethodInfo,
  psk: Uint8Array,
  id: Uint8Array,
  order: KeyOrder = "spec",
): SessionKey {
  const salt = order === "gost" ? id.slice().reverse() : id;
  return { id, order, aead: Aead.sync(method.aead, sessionSubkey(method, psk, salt)) };
}

/** A new session with a random id (or `id`, for tests). */
export function newSessionKey(
  method: MethodInfo,
  psk: Uint8Array,
  order: KeyOrder = "spec",
  id: Uint8Array = crypto.getRandomValues(new Uint8Array(SESSION_ID_SIZE)),
): SessionKey {
  return sessionKey(method, psk, id, order);
}

/** The session id as a map key. */
export function sessionIdKey(id: Uint8Array): string {
  return String.fromCharCode(id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
}

/** The main header of a packet to seal. */
export interface MainHeader {
  type: typeof TYPE_CLIENT | typeof TYPE_SERVER;
  /** Server packets: the client session they answer. */
  clientSessionId?: Uint8Array;
  /** Random padding bytes (default none). */
  padding?: number;
}

/**
 * Seals one packet of session `key` with packet id `packetId`: the address (destination for
 * client packets, source for server packets) and `payload` after the main header.
 */
export function sealPacket2022(
  headerCipher: SeparateHeaderCipher,
  key: SessionKey,
  packetId: number,
  main: MainHeader,
  addr: Uint8Array,
  payload: Uint8Array,
  nowMs: number = Date.now(),
): Uint8Array {
  const server = main.type === TYPE_SERVER;
  const pad = main.padding ?? 0;
  const headLen = 1 + 8 + (server ? SESSION_ID_SIZE : 0) + 2 + pad + addr.length;
  // The plaintext is laid out where its ciphertext goes and sealed in place: one buffer per packet.
  const out = new Uint8Array(SEPARATE_HEADER_SIZE + headLen + payload.length + TAG_SIZE);
  const body = out.subarray(SEPARATE_HEADER_SIZE, SEPARATE_HEADER_SIZE + headLen + payload.length);
  const view = new DataView(out.buffer, SEPARATE_HEADER_SIZE);
  body[0] = main.type;
  view.setBigUint64(1, BigInt(Math.floor(nowMs / 1000)));
  let off = 9;
  if (server) {
    if (main.clientSessionId?.length !== SESSION_ID_SIZE) {
      throw new Error("a server packet needs the client session id");
    }
    body.set(main.clientSessionId, off);
    off += SESSION_ID_SIZE;
  }
  view.setUint16(off, pad);
  off += 2;
  if (pad) crypto.getRandomValues(body.subarray(off, off + pad));
  body.set(addr, off + pad);
  body.set(payload, headLen);

  const separate = new Uint8Array(SEPARATE_HEADER_SIZE);
  separate.set(key.id);
  new DataView(separate.buffer).setUint32(8, Math.floor(packetId / 2 ** 32));
  new DataView(separate.buffer).setUint32(12, packetId >>> 0);
  headerCipher.encrypt(separate, out, 0);
  key.aead.sealInto(separate.subarray(4), body, out, SEPARATE_HEADER_SIZE);
  return out;
}

/** A decrypted separate header. */
export interface SeparateHeader {
  /** The sender's session id (a view into `plain`). */
  sessionId: Uint8Array;
  /** Exact below 2^53; the replay window refuses anything above (no sender counts that far). */
  packetId: number;
  /** The AEAD nonce: bytes 4..16 of the plain header. */
  nonce: Uint8Array;
}

/** Decrypts the separate header of `packet`; a reason when the packet cannot be valid. */
export function openSeparateHeader(
  headerCipher: SeparateHeaderCipher,
  packet: Uint8Array,
): SeparateHeader | DropReason {
  if (packet.length < MIN_PACKET) return "short";
  const plain = headerCipher.decrypt(packet);
  const view = new DataView(plain.buffer, plain.byteOffset, SEPARATE_HEADER_SIZE);
  const packetId = view.getUint32(8) * 2 ** 32 + view.getUint32(12);
  return { sessionId: plain.subarray(0, SESSION_ID_SIZE), packetId, nonce: plain.subarray(4) };
}

/** An opened body. */
export interface OpenedBody2022 {
  type: number;
  /** Server packets: the client session they answer (a view). */
  clientSessionId?: Uint8Array;
  /** The address in the packet, `host:port`. */
  addr: string;
  /** Its SOCKS encoding (a view). */
  addrBytes: Uint8Array;
  payload: Uint8Array;
}

/**
 * Opens the body of `packet` (after its separate header) with `aead` and the header's nonce,
 * and checks its main header: the expected `type`, a timestamp within 30 s of `nowMs`, a
 * padding and an address that fit.
 */
export function openBody2022(
  aead: Aead,
  header: SeparateHeader,
  packet: Uint8Array,
  type: typeof TYPE_CLIENT | typeof TYPE_SERVER,
  nowMs: number = Date.now(),
): OpenedBody2022 | DropReason {
  const body = aead.openSync(header.nonce, packet.subarray(SEPARATE_HEADER_SIZE));
  if (!body) return "auth";
  if (body[0] !== type) return "type";
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const fixed = 1 + 8 + (type === TYPE_SERVER ? SESSION_ID_SIZE : 0) + 2;
  if (body.length < fixed) return "header";
  const ts = Number(view.getBigUint64(1));
  if (Math.abs(ts - Math.floor(nowMs / 1000)) > MAX_TIME_DIFF_S) return "timestamp";
  const clientSessionId = type === TYPE_SERVER ? body.subarray(9, 9 + SESSION_ID_SIZE) : undefined;
  const addrAt = fixed + view.getUint16(fixed - 2);
  if (addrAt >= body.length) return "header";
  const rest = body.subarray(addrAt);
  try {
    const len = socksAddrLength(rest);
    if (len < 0 || rest.length < len) return "header";
    const { addr } = decodeSocksAddr(rest);
    return { type, clientSessionId, addr, addrBytes: rest.subarray(0, len), payload: rest.subarray(len) };
  } catch {
    return "header";
  }
}

/** True when two session ids are equal. */
export function sameSessionId(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < SESSION_ID_SIZE; i++) if (a[i] !== b[i]) return false;
  return true;
}
