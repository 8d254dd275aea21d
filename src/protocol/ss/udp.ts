/**
 * Shadowsocks UDP (AEAD edition): each datagram is `salt | AEAD(subkey, nonce 0)(addr + payload)`,
 * with a fresh random salt per packet and the SOCKS address of the destination (client to
 * server) or of the source (server to client) in front of the payload.
 * @module
 */
import { decodeSocksAddr, socksAddrLength } from "../../core/socks_addr.ts";
import { Aead, type MethodInfo, NONCE_SIZE, sessionSubkey, TAG_SIZE } from "./cipher.ts";
import type { SaltFilter } from "./replay.ts";

const ZERO_NONCE = new Uint8Array(NONCE_SIZE);

/** Seals one packet carrying `payload` for the SOCKS address `addr`. */
export function sealPacket(
  method: MethodInfo,
  psk: Uint8Array,
  addr: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const salt = crypto.getRandomValues(new Uint8Array(method.saltSize));
  const plain = new Uint8Array(addr.length + payload.length);
  plain.set(addr);
  plain.set(payload, addr.length);
  const out = new Uint8Array(salt.length + plain.length + TAG_SIZE);
  out.set(salt);
  Aead.sync(method.aead, sessionSubkey(method, psk, salt)).sealInto(ZERO_NONCE, plain, out, salt.length);
  return out;
}

/** An opened packet. */
export interface OpenedPacket {
  /** The address in the packet, `host:port`. */
  addr: string;
  /** Its SOCKS encoding (a view into the packet). */
  addrBytes: Uint8Array;
  payload: Uint8Array;
}

/**
 * Opens one packet; null when it is too short, does not authenticate, replays a salt, or
 * carries a malformed address (the caller drops it).
 */
export function openPacket(
  method: MethodInfo,
  psk: Uint8Array,
  packet: Uint8Array,
  filter?: SaltFilter,
): OpenedPacket | null {
  if (method.edition !== "aead") return null;
  if (packet.length < method.saltSize + TAG_SIZE + 1) return null;
  const salt = packet.subarray(0, method.saltSize);
  const plain = Aead.sync(method.aead, sessionSubkey(method, psk, salt)).openSync(
    ZERO_NONCE,
    packet.subarray(method.saltSize),
  );
  if (!plain) return null;
  if (filter?.check(salt)) return null;
  try {
    const len = socksAddrLength(plain);
    if (len < 0 || plain.length < len) return null;
    const { addr } = decodeSocksAddr(plain);
    return { addr, addrBytes: plain.subarray(0, len), payload: plain.subarray(len) };
  } catch {
    return null;
  }
}
