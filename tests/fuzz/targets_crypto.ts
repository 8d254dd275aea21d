/**
 * Fuzz targets behind encryption: Shadowsocks AEAD and 2022 (streams and UDP), KCP's crypt,
 * FEC and segments. Mutated ciphertext only reaches the authentication check, so half of
 * the inputs are mutated *plaintext* sealed with the right key here: those reach the header
 * parsers behind the AEAD, as a peer holding the key could.
 * @module
 */
import { encodeSocksAddr } from "../../src/core/socks_addr.ts";
import {
  Aead,
  lookupMethod,
  type MethodInfo,
  methodKey,
  sessionSubkey,
} from "../../src/protocol/ss/cipher.ts";
import { SaltFilter } from "../../src/protocol/ss/replay.ts";
import { serverHandshake } from "../../src/protocol/ss/handshake.ts";
import { SsAuthError, SsTruncatedError, StreamSealer } from "../../src/protocol/ss/stream.ts";
import { openPacket as ssOpenPacket, sealPacket as ssSealPacket } from "../../src/protocol/ss/udp.ts";
import {
  openBody2022,
  openSeparateHeader,
  SeparateHeaderCipher,
  sessionKey,
  TYPE_CLIENT,
} from "../../src/protocol/ss/udp2022.ts";
import { createBlockCrypt, deriveKey, openPacket as kcpOpen } from "../../src/protocol/kcp/crypt.ts";
import { FecDecoder } from "../../src/protocol/kcp/fec.ts";
import { KcpSession } from "../../src/protocol/kcp/session.ts";
import { loadSeeds } from "./mutate.ts";
import { drain, memoryDuplex, never, type Target, typed, utf8 } from "./_target.ts";

const AEAD = lookupMethod("aes-256-gcm")!;
const AEAD_PSK = methodKey(AEAD, "testpass"); // the captures' password
const SS2022 = lookupMethod("2022-blake3-aes-256-gcm")!;
const SS2022_PSK = methodKey(SS2022, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="); // the captures' key
const SALT = new Uint8Array(32).fill(5);

/** Plaintext inputs start with this byte; the rest are sent as they are (mutated ciphertext). */
const PLAIN = 0x00;

/** The sealing side's AEAD for the fixed salt (made once: the parser's side derives its own each time). */
const sealers = new Map<MethodInfo, Aead>();
function sealerOf(method: MethodInfo, psk: Uint8Array, max: number): StreamSealer {
  let aead = sealers.get(method);
  if (!aead) {
    aead = Aead.create(method.aead, sessionSubkey(method, psk, SALT.subarray(0, method.saltSize)));
    sealers.set(method, aead);
  }
  return new StreamSealer(aead, max);
}

/** `salt | sealed frames of plain` for an AEAD stream. */
async function sealAead(method: MethodInfo, psk: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
  return await sealerOf(method, psk, 0x3fff).seal(plain, SALT.subarray(0, method.saltSize));
}

/** A 2022 request: fixed header (type, timestamp, length) and variable header, each sealed. */
async function seal2022(plain: Uint8Array, fixLengths: boolean): Promise<Uint8Array> {
  const salt = SALT.subarray(0, SS2022.saltSize);
  const sealer = sealerOf(SS2022, SS2022_PSK, 0xffff);
  const fixed = new Uint8Array(11);
  fixed.set(plain.subarray(0, 11));
  const variable = plain.subarray(11);
  if (fixLengths) {
    fixed[0] = 0;
    new DataView(fixed.buffer).setBigUint64(1, BigInt(Math.floor(Date.now() / 1000)));
    fixed[9] = variable.length >> 8;
    fixed[10] = variable.length & 0xff;
  }
  return await sealer.sealPieces([fixed, variable], salt);
}

function plainSeed(b: Uint8Array): Uint8Array {
  return Uint8Array.of(PLAIN, ...b);
}

const ssAead: Target = {
  name: "ss.aead-stream",
  seeds: () => [
    ...loadSeeds("ss").map((b) => b[0] === PLAIN ? Uint8Array.of(1, ...b) : b),
    plainSeed(new Uint8Array([...encodeSocksAddr("127.0.0.1:80"), ...utf8("GET / HTTP/1.0\r\n\r\n")])),
    plainSeed(encodeSocksAddr("example.com:443")),
  ],
  async run(b) {
    const wire = b[0] === PLAIN ? await sealAead(AEAD, AEAD_PSK, b.subarray(1)) : b;
    const { conn } = await serverHandshake(memoryDuplex(wire), {
      method: AEAD,
      psk: AEAD_PSK,
      filter: new SaltFilter(16),
    });
    await drain(conn.direct!);
  },
  rejects: typed(SsAuthError, SsTruncatedError),
};

const ss2022Stream: Target = {
  name: "ss.2022-stream",
  seeds: () => {
    const variable = [...encodeSocksAddr("127.0.0.1:80"), 0, 3, 1, 2, 3, ...utf8("GET /")];
    return [
      ...loadSeeds("ss2022").map((b) => b[0] === PLAIN ? Uint8Array.of(1, ...b) : b),
      plainSeed(new Uint8Array([...new Uint8Array(11), ...variable])),
      plainSeed(new Uint8Array([...new Uint8Array(11), ...encodeSocksAddr("[::1]:22"), 0, 0, ...utf8("x")])),
    ];
  },
  async run(b) {
    const wire = b[0] === PLAIN ? await seal2022(b.subarray(1), (b.length & 3) !== 0) : b;
    const { conn } = await serverHandshake(memoryDuplex(wire), {
      method: SS2022,
      psk: SS2022_PSK,
      filter: new SaltFilter(16),
    });
    await drain(conn.direct!);
  },
  rejects: typed(SsAuthError, SsTruncatedError),
};

const UDP_NONCE = new Uint8Array(12);
/** A packet under the fixed salt (as sealPacket lays it out, without deriving a subkey per packet). */
function sealUdp(plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(AEAD.saltSize + plain.length + 16);
  out.set(SALT.subarray(0, AEAD.saltSize));
  const aead = sealers.get(AEAD) ?? sealerOf(AEAD, AEAD_PSK, 0x3fff).aead;
  aead.sealInto(UDP_NONCE, plain, out, AEAD.saltSize);
  return out;
}

/** openPacket returns null for whatever it refuses: it must never throw. */
const ssUdp: Target = {
  name: "ss.udp",
  seeds: () => [
    plainSeed(new Uint8Array([...encodeSocksAddr("127.0.0.1:53"), ...utf8("query")])),
    plainSeed(encodeSocksAddr("[::1]:5353")),
    ssSealPacket(AEAD, AEAD_PSK, encodeSocksAddr("example.com:53"), utf8("q")),
  ],
  run(b) {
    const wire = b[0] === PLAIN ? sealUdp(b.subarray(1)) : b;
    ssOpenPacket(AEAD, AEAD_PSK, wire, new SaltFilter(16));
  },
  rejects: never,
};

const headerCipher = new SeparateHeaderCipher(SS2022_PSK);
const SESSION_ID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const session2022 = sessionKey(SS2022, SS2022_PSK, SESSION_ID);

/** A 2022 UDP packet of session {@link SESSION_ID} whose body (main header on) is `body`. */
function seal2022Udp(body: Uint8Array, packetId: number): Uint8Array {
  const out = new Uint8Array(16 + body.length + 16);
  const separate = new Uint8Array(16);
  separate.set(SESSION_ID);
  new DataView(separate.buffer).setUint32(12, packetId);
  headerCipher.encrypt(separate, out, 0);
  session2022.aead.sealInto(separate.subarray(4), body, out, 16);
  return out;
}

/** openSeparateHeader and openBody2022 return a drop reason for what they refuse: never throw. */
const ssUdp2022: Target = {
  name: "ss.2022-udp",
  seeds: () => {
    const main = new Uint8Array([TYPE_CLIENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 7, 7]);
    new DataView(main.buffer).setBigUint64(1, BigInt(Math.floor(Date.now() / 1000)));
    return [
      ...loadSeeds("ssu2022"),
      plainSeed(new Uint8Array([...main, ...encodeSocksAddr("127.0.0.1:53"), ...utf8("query")])),
    ];
  },
  run(b) {
    const wire = b[0] === PLAIN ? seal2022Udp(b.subarray(1), b.length) : b;
    const h = openSeparateHeader(headerCipher, wire);
    if (typeof h === "string") return;
    const key = h.sessionId.every((x, i) => x === SESSION_ID[i])
      ? session2022
      : sessionKey(SS2022, SS2022_PSK, h.sessionId);
    openBody2022(key.aead, h, wire, TYPE_CLIENT);
  },
  rejects: never,
};

const kcpCrypt = await createBlockCrypt("aes", await deriveKey(""));

/** Decrypt and CRC check of captured datagrams: null for a bad one, never a throw. */
const kcpCryptTarget: Target = {
  name: "kcp.crypt",
  seeds: () => loadSeeds("kcp-datagrams"),
  run: (b) => void kcpOpen(kcpCrypt, b.slice()),
  rejects: never,
};

const kcpFec: Target = {
  name: "kcp.fec",
  seeds: () => loadSeeds("kcp-bodies").map((b) => b.subarray(20)),
  run: (() => {
    let dec = new FecDecoder(10, 3);
    let n = 0;
    return (b: Uint8Array) => {
      if (++n % 1000 === 0) dec = new FecDecoder(10, 3);
      dec.decode(b.slice());
    };
  })(),
  rejects: never,
};

/**
 * One KCP session (FEC 10/3, no crypt: the bodies as the CRC check hands them over) that takes
 * many datagrams in a row, as a listener's session takes whatever a peer sends; replaced
 * every 500 inputs. What it delivers is read and thrown away.
 */
function kcpSessionTarget(): Target {
  let session: KcpSession | null = null;
  let n = 0;
  let conv = 0;
  const cfg = {
    crypt: null,
    dataShards: 10,
    parityShards: 3,
    mtu: 1350,
    sndWnd: 128,
    rcvWnd: 128,
    nodelay: 0,
    interval: 40,
    resend: 0,
    nc: 0,
    ackNoDelay: false,
    pacing: true,
  };
  return {
    name: "kcp.session",
    seeds() {
      const bodies = loadSeeds("kcp-bodies").map((b) => b.subarray(20));
      const b = bodies[0];
      conv = (b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24)) >>> 0;
      return bodies;
    },
    run(b) {
      if (!session || ++n % 500 === 0) {
        session?.close();
        session = new KcpSession(conv, cfg, () => {});
      }
      session.inputBody(b.slice());
      while (session.arq.recvAll(64 * 1024)) { /* discard */ }
    },
    rejects: never,
    done() {
      session?.close();
    },
  };
}

/** The targets behind encryption. */
export function cryptoTargets(): Target[] {
  return [ssAead, ss2022Stream, ssUdp, ssUdp2022, kcpCryptTarget, kcpFec, kcpSessionTarget()];
}
