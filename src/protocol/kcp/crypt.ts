/**
 * kcp-go's packet crypt layer: every UDP datagram is `nonce(16) | crc32(4) | body`, with
 * the CRC-32 (IEEE, little-endian) over the body and the whole datagram then encrypted.
 *
 * The block ciphers run in CFB-128 mode with kcp-go's fixed IV (the random nonce at the
 * front makes every packet's keystream different); salsa20 keys its stream with the first
 * 8 bytes; `xor` XORs a PBKDF2-expanded table; `none` leaves the bytes as they are but keeps
 * the header. AES-CFB runs on libcrypto in place (native_aes.ts); where libcrypto cannot be
 * loaded, on `node:crypto`'s ECB and CBC modes (node_aes.ts).
 *
 * Nothing here imports a `node:` module up front: a process's first one costs ~5 MB of resident
 * memory (Deno's Node layer), which a KCP process on libcrypto never needs. So the keys come
 * from Web Crypto's PBKDF2 and the CRC from core/crc32.ts (~1.2 µs per 1350-byte datagram
 * against 0.2 µs in `node:zlib`).
 * @module
 */
import { crc32, crc32Range } from "../../core/crc32.ts";
import { NativeAesCfb } from "./native_aes.ts";

/** Bytes of random nonce in front of every packet. */
export const NONCE_SIZE = 16;
/** Nonce plus CRC-32: the header a packet carries whenever a crypt is configured. */
export const CRYPT_HEADER_SIZE = 20;

/** The `kcp.crypt` names understood. */
export const CRYPT_NAMES = ["aes", "aes-128", "aes-192", "salsa20", "xor", "none"] as const;
export type CryptName = typeof CRYPT_NAMES[number];

/** A cipher applied in place to a whole datagram. */
export interface BlockCrypt {
  encrypt(buf: Uint8Array): void;
  decrypt(buf: Uint8Array): void;
}

/** kcp-go's fixed CFB initial vector. */
export const KCP_IV = new Uint8Array([
  167,
  115,
  79,
  156,
  18,
  172,
  27,
  1,
  164,
  21,
  242,
  193,
  252,
  120,
  230,
  107,
]);

const KDF_SALT = "kcp-go";
const XOR_SALT = "sH3CIVoF#rWLtJo6";
/** kcp-go's largest datagram; the xor table is this long. */
const MTU_LIMIT = 1500;

const utf8 = new TextEncoder();

/** PBKDF2-HMAC-SHA1 of `secret` with `salt`, through Web Crypto. */
async function pbkdf2Sha1(
  secret: Uint8Array<ArrayBuffer>,
  salt: string,
  iterations: number,
  bytes: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-1", salt: utf8.encode(salt), iterations };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, bytes * 8));
}

/** PBKDF2-HMAC-SHA1(key, "kcp-go", 4096, 32): the pass every cipher is keyed from. */
export function deriveKey(key: string): Promise<Uint8Array> {
  return pbkdf2Sha1(utf8.encode(key), KDF_SALT, 4096, 32);
}

/** AES-CFB through libcrypto where it may be loaded (no allocation per packet), else `node:crypto`. */
async function aesCfb(key: Uint8Array): Promise<BlockCrypt> {
  return NativeAesCfb.create(key, KCP_IV) ?? new (await import("./node_aes.ts")).AesCfb(key, KCP_IV);
}

/** Builds the cipher `name` from the derived 32-byte pass, exactly as kcp-go/kcptun/gost pick key bytes. */
export async function createBlockCrypt(name: CryptName, pass: Uint8Array): Promise<BlockCrypt> {
  switch (name) {
    case "aes":
      return await aesCfb(pass.subarray(0, 32));
    case "aes-128":
      return await aesCfb(pass.subarray(0, 16));
    case "aes-192":
      return await aesCfb(pass.subarray(0, 24));
    case "salsa20":
      return new Salsa20Crypt(pass);
    case "xor":
      return new XorCrypt(await pbkdf2Sha1(pass.slice(), XOR_SALT, 32, MTU_LIMIT));
    case "none":
      return { encrypt() {}, decrypt() {} };
  }
}

// ---------------------------------------------------------------- Salsa20/20

/** Salsa20 keyed with the 32-byte pass; the packet's first 8 bytes are the nonce (left as is). */
export class Salsa20Crypt implements BlockCrypt {
  readonly #input = new Uint32Array(16);
  readonly #x = new Uint32Array(16);
  readonly #block = new Uint8Array(64);
  readonly #blockWords = new Uint32Array(this.#block.buffer);

  constructor(key: Uint8Array) {
    const k = new DataView(key.buffer, key.byteOffset, 32);
    const s = this.#input;
    s[0] = 0x61707865, s[5] = 0x3320646e, s[10] = 0x79622d32, s[15] = 0x6b206574;
    for (let i = 0; i < 4; i++) {
      s[1 + i] = k.getUint32(4 * i, true);
      s[11 + i] = k.getUint32(16 + 4 * i, true);
    }
  }

  encrypt(buf: Uint8Array): void {
    this.#xor(buf);
  }
  decrypt(buf: Uint8Array): void {
    this.#xor(buf);
  }

  #xor(b: Uint8Array): void {
    if (b.length <= 8) return;
    const s = this.#input;
    s[6] = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    s[7] = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    s[8] = 0, s[9] = 0;
    for (let o = 8; o < b.length; o += 64) {
      this.#core();
      const n = Math.min(64, b.length - o);
      const ks = this.#block;
      for (let i = 0; i < n; i++) b[o + i] ^= ks[i];
      if (++s[8] === 0) s[9]++;
    }
  }

  #core(): void {
    const x = this.#x;
    x.set(this.#input);
    for (let i = 0; i < 10; i++) {
      x[4] ^= rotl(x[0] + x[12], 7), x[8] ^= rotl(x[4] + x[0], 9);
      x[12] ^= rotl(x[8] + x[4], 13), x[0] ^= rotl(x[12] + x[8], 18);
      x[9] ^= rotl(x[5] + x[1], 7), x[13] ^= rotl(x[9] + x[5], 9);
      x[1] ^= rotl(x[13] + x[9], 13), x[5] ^= rotl(x[1] + x[13], 18);
      x[14] ^= rotl(x[10] + x[6], 7), x[2] ^= rotl(x[14] + x[10], 9);
      x[6] ^= rotl(x[2] + x[14], 13), x[10] ^= rotl(x[6] + x[2], 18);
      x[3] ^= rotl(x[15] + x[11], 7), x[7] ^= rotl(x[3] + x[15], 9);
      x[11] ^= rotl(x[7] + x[3], 13), x[15] ^= rotl(x[11] + x[7], 18);
      x[1] ^= rotl(x[0] + x[3], 7), x[2] ^= rotl(x[1] + x[0], 9);
      x[3] ^= rotl(x[2] + x[1], 13), x[0] ^= rotl(x[3] + x[2], 18);
      x[6] ^= rotl(x[5] + x[4], 7), x[7] ^= rotl(x[6] + x[5], 9);
      x[4] ^= rotl(x[7] + x[6], 13), x[5] ^= rotl(x[4] + x[7], 18);
      x[11] ^= rotl(x[10] + x[9], 7), x[8] ^= rotl(x[11] + x[10], 9);
      x[9] ^= rotl(x[8] + x[11], 13), x[10] ^= rotl(x[9] + x[8], 18);
      x[12] ^= rotl(x[15] + x[14], 7), x[13] ^= rotl(x[12] + x[15], 9);
      x[14] ^= rotl(x[13] + x[12], 13), x[15] ^= rotl(x[14] + x[13], 18);
    }
    const out = this.#blockWords;
    // Little-endian words (every platform Deno runs on is little-endian).
    for (let i = 0; i < 16; i++) out[i] = x[i] + this.#input[i];
  }
}

function rotl(v: number, c: number): number {
  return (v << c) | (v >>> (32 - c));
}

// ---------------------------------------------------------------- xor

/** kcp-go's "simple xor": XOR with a fixed 1500-byte table. */
class XorCrypt implements BlockCrypt {
  constructor(readonly table: Uint8Array) {}
  encrypt(b: Uint8Array): void {
    const t = this.table, n = Math.min(b.length, t.length);
    for (let i = 0; i < n; i++) b[i] ^= t[i];
  }
  decrypt(b: Uint8Array): void {
    this.encrypt(b);
  }
}

// ---------------------------------------------------------------- packet seal / open

const noncePool = new Uint8Array(65536);
let noncePos = noncePool.length;

/** Writes a fresh random nonce at `buf[0..16)` (drawn from a pool refilled 64 KiB at a time). */
function fillNonce(buf: Uint8Array): void {
  if (noncePos + NONCE_SIZE > noncePool.length) {
    crypto.getRandomValues(noncePool);
    noncePos = 0;
  }
  buf.set(noncePool.subarray(noncePos, noncePos + NONCE_SIZE));
  noncePos += NONCE_SIZE;
}

/**
 * Seals a packet in place: `buf[0..20)` is reserved for the header, the body follows.
 * Writes nonce and CRC-32, then encrypts the whole buffer.
 */
export function sealPacket(crypt: BlockCrypt, buf: Uint8Array): void {
  fillNonce(buf);
  const crc = crc32Range(buf, CRYPT_HEADER_SIZE, buf.length);
  buf[16] = crc, buf[17] = crc >>> 8, buf[18] = crc >>> 16, buf[19] = crc >>> 24;
  crypt.encrypt(buf);
}

/**
 * Opens a packet in place: decrypts and checks the CRC. Returns the body, or null when the
 * packet is too short or fails the check (wrong key, garbage, corruption).
 */
export function openPacket(crypt: BlockCrypt, buf: Uint8Array): Uint8Array | null {
  if (buf.length < CRYPT_HEADER_SIZE) return null;
  crypt.decrypt(buf);
  const want = (buf[16] | (buf[17] << 8) | (buf[18] << 16) | (buf[19] << 24)) >>> 0;
  const body = buf.subarray(CRYPT_HEADER_SIZE);
  return crc32(body) >>> 0 === want ? body : null;
}
