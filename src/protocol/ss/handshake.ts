/**
 * The handshakes of a Shadowsocks TCP stream: the client's request header and the server's
 * reading of it (AEAD 2017: the target address in the first chunk; 2022: a fixed header with
 * type, timestamp and length, then the variable header with address and padding), and the
 * {@link DirectIO} that carries each end's data through the chunk codec of stream.ts.
 *
 * 2022 headers are laid out as gost 3.2.6 does (padding and no initial payload in a request,
 * a response header of length 0 followed by ordinary chunks), and SIP022's layouts are
 * accepted too; docs/proxy.md has the table.
 * @module
 */
import { concat } from "../../core/bytes.ts";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import { ScratchBuffer } from "../../core/read_buffer.ts";
import { decodeSocksAddr, SocksAddrError, socksAddrLength } from "../../core/socks_addr.ts";
import { Aead, type MethodInfo, sessionSubkey } from "./cipher.ts";
import type { SaltFilter } from "./replay.ts";
import {
  CipherSource,
  MAX_PADDING,
  MAX_TIME_DIFF_S,
  maxPayload,
  SsAuthError,
  SsTruncatedError,
  StreamOpener,
  StreamSealer,
  TYPE_CLIENT,
  TYPE_SERVER,
} from "./stream.ts";
/**
 * Sealed writes at least this long reuse one buffer (below it a fresh one costs next to
 * nothing, and a quiet connection holds none; a few small writes in a row drop the kept one).
 */
const BULK_WRITE = 16 * 1024;

/** Where a stream's sealed bytes go; `reusable`: a buffer written may be reused once the write resolves. */
interface InnerWriter {
  write(b: Uint8Array): Promise<void>;
  closeWrite(): Promise<void>;
  readonly reusable: boolean;
}

/**
 * Writes to the inner duplex without copying. Direct I/O is done with a buffer once its write
 * resolves; a stream may keep it, so each buffer handed to one must be fresh.
 */
function innerWriter(inner: Duplex): InnerWriter {
  const d = inner.direct;
  if (d) return { write: (b) => d.write(b), closeWrite: () => d.closeWrite(), reusable: true };
  const w = inner.writable.getWriter();
  return {
    reusable: false,
    write: (b) => w.write(b),
    async closeWrite() {
      try {
        await w.close();
      } catch {
        // already closed or errored
      }
    },
  };
}

/** Unix time in seconds as 8 bytes big-endian. */
function timestamp(into: Uint8Array, off: number, nowMs = Date.now()): void {
  new DataView(into.buffer, into.byteOffset).setBigUint64(off, BigInt(Math.floor(nowMs / 1000)));
}

function readTimestamp(b: Uint8Array, off: number): number {
  return Number(new DataView(b.buffer, b.byteOffset).getBigUint64(off));
}

function checkTime(ts: number, nowMs: number): void {
  const diff = Math.abs(ts - Math.floor(nowMs / 1000));
  if (diff > MAX_TIME_DIFF_S) {
    throw new SsAuthError(`header timestamp ${diff} s away from our clock (replay?)`);
  }
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** What either end of a stream needs. */
export interface StreamKeys {
  method: MethodInfo;
  psk: Uint8Array;
  /** Salts seen (servers must give one; clients may, to refuse replayed responses). */
  filter?: SaltFilter;
  /** Clock for 2022 timestamps (tests). */
  now?: () => number;
}

/**
 * One end of a Shadowsocks stream as direct I/O. `readyReader` opens the peer's direction
 * lazily (a client reads the server's salt only when it first reads); `firstWrite` adds the
 * request or response header to the first data written.
 */
class SsStreamIO implements DirectIO {
  #opener?: StreamOpener;
  #openerInit?: Promise<StreamOpener>;
  #queue: Uint8Array[] = [];
  #head?: Uint8Array;
  #writeChain: Promise<void> = Promise.resolve();
  #headerSent: boolean;
  #flushTimer?: ReturnType<typeof setTimeout>;
  /**
   * The output of bulk writes, kept for the next (writes are serialized, and a direct inner write
   * is done with it once it resolves): a transfer allocates and zero-fills nothing per write.
   */
  readonly #bulk = new ScratchBuffer(0, BULK_WRITE);

  constructor(
    readonly src: CipherSource,
    readonly out: InnerWriter,
    readonly sealer: StreamSealer,
    readonly openReader: () => Promise<StreamOpener>,
    /** Seals the header with `data` (maybe empty); called once before anything else goes out. */
    readonly sealFirst: ((data: Uint8Array) => Promise<Uint8Array>) | null,
    initialPlain: Uint8Array[] = [],
    /** Client: send the header alone if nothing is written this long after the first read. */
    readonly flushDelayMs = 0,
  ) {
    this.#headerSent = sealFirst === null;
    this.#queue = initialPlain.filter((p) => p.length > 0);
  }

  async read(buf: Uint8Array): Promise<number | null> {
    if (!this.#head) {
      if (this.#queue.length === 0) {
        if (!this.#headerSent && this.flushDelayMs > 0 && !this.#flushTimer) {
          // A server-first protocol (SSH, SMTP) would wait forever for a client write that
          // carries the header: send it alone after a short pause.
          this.#flushTimer = setTimeout(() => {
            if (!this.#headerSent) this.write(new Uint8Array(0)).catch(() => {});
          }, this.flushDelayMs);
        }
        this.#opener ??= await (this.#openerInit ??= this.openReader());
        if (this.#opener.direct) {
          const n = await this.#opener.readInto(buf);
          if (n !== 0) return n;
        }
        const frames = await this.#opener.readFrames();
        if (!frames) return null;
        this.#queue = frames;
      }
      this.#head = this.#queue.shift();
    }
    // Hand over as many decrypted frames as fit: fewer, larger writes downstream.
    let n = 0;
    while (this.#head && n < buf.length) {
      const head = this.#head;
      const k = Math.min(buf.length - n, head.length);
      buf.set(k === head.length ? head : head.subarray(0, k), n);
      n += k;
      this.#head = k < head.length ? head.subarray(k) : this.#queue.shift();
    }
    return n;
  }

  write(data: Uint8Array): Promise<void> {
    // Writes are serialized: nonces are assigned in order.
    const p = this.#writeChain.then(async () => {
      let sealed: Uint8Array;
      if (!this.#headerSent) {
        this.#headerSent = true;
        clearTimeout(this.#flushTimer);
        sealed = await this.sealFirst!(data);
      } else {
        if (data.length === 0) return;
        if (this.sealer.direct) return await this.#writeSealed(data);
        sealed = await this.sealer.seal(data);
      }
      await this.out.write(sealed);
    });
    this.#writeChain = p.catch(() => {});
    return p;
  }

  /** Seals `data` synchronously (libcrypto) into the kept bulk buffer where it may be reused, and writes it. */
  async #writeSealed(data: Uint8Array): Promise<void> {
    const size = this.sealer.sealedSize(data.length);
    const buf = this.out.reusable ? this.#bulk.take(size) : new Uint8Array(size);
    try {
      const sealed = buf.subarray(0, size);
      this.sealer.sealTo(data, sealed);
      await this.out.write(sealed);
    } finally {
      this.#bulk.give(buf);
    }
  }

  async closeWrite(): Promise<void> {
    // The server must learn the target even if the client sends nothing at all.
    if (!this.#headerSent) await this.write(new Uint8Array(0)).catch(() => {});
    await this.#writeChain;
    clearTimeout(this.#flushTimer);
    await this.out.closeWrite();
  }

  dispose(): void {
    clearTimeout(this.#flushTimer);
  }
}

/** The stream's duplex: closing it ends the I/O, the cipher source and the connection below. */
function streamOver(io: SsStreamIO, src: CipherSource, inner: Duplex): IODuplex {
  const close = () => {
    io.dispose();
    src.cancel();
    inner.close();
  };
  return new IODuplex(io, close, inner.local, inner.remote);
}

/** Options of a client stream. */
export interface ClientStreamOptions extends StreamKeys {
  /** Send salt and header at once instead of with the first data. */
  nodelay?: boolean;
  /** Without nodelay: send the header alone if the client has written nothing this long after it starts reading. */
  flushDelayMs?: number;
  /** The request salt (tests replaying a recorded response); random otherwise. */
  salt?: Uint8Array;
}

/**
 * Client side: wraps `inner` (a stream reaching a Shadowsocks server) into a duplex that
 * carries `target` (SOCKS address bytes) to the server in the request header.
 */
export async function clientStream(
  inner: Duplex,
  target: Uint8Array,
  opts: ClientStreamOptions,
): Promise<Duplex> {
  const { method, psk } = opts;
  const now = opts.now ?? Date.now;
  const max = maxPayload(method);
  const salt = opts.salt ?? randomBytes(method.saltSize);
  opts.filter?.add(salt);
  const sealer = new StreamSealer(Aead.create(method.aead, sessionSubkey(method, psk, salt)), max);
  const src = new CipherSource(inner);
  const out = innerWriter(inner);

  const sealFirst = (data: Uint8Array): Promise<Uint8Array> => {
    if (method.edition === "aead") {
      const pieces = [new Uint8Array([target.length >> 8, target.length & 0xff]), target];
      return sealer.sealPieces(sealer.framePieces(data, pieces), salt);
    }
    // 2022: fixed header (type, time, length of the variable header), then the variable
    // header (address, padding), then the data as ordinary chunks, all in one write. gost's
    // way: its server drops (and worse, writes over the address with) an initial payload in
    // the variable header, and SIP022 allows padding instead of one. Padding 1..899 bytes:
    // without a payload SIP022 and gost refuse an empty one.
    const padLen = 1 + Math.floor(Math.random() * (MAX_PADDING - 1));
    const variable = new Uint8Array(target.length + 2 + padLen);
    variable.set(target);
    variable[target.length] = padLen >> 8;
    variable[target.length + 1] = padLen & 0xff;
    crypto.getRandomValues(variable.subarray(target.length + 2));
    const fixed = new Uint8Array(11);
    fixed[0] = TYPE_CLIENT;
    timestamp(fixed, 1, now());
    fixed[9] = variable.length >> 8;
    fixed[10] = variable.length & 0xff;
    return sealer.sealPieces(sealer.framePieces(data, [fixed, variable]), salt);
  };

  const openReader = async (): Promise<StreamOpener> => {
    if (!(await src.want(method.saltSize))) throw new SsTruncatedError("the server's salt");
    const serverSalt = src.view(method.saltSize).slice();
    src.consume(method.saltSize);
    if (opts.filter?.check(serverSalt)) throw new SsAuthError("server salt replayed");
    const opener = new StreamOpener(
      Aead.create(method.aead, sessionSubkey(method, psk, serverSalt)),
      src,
      max,
    );
    if (method.edition === "2022") {
      const hdr = await opener.readSealed(1 + 8 + method.saltSize + 2, "response header");
      if (hdr[0] !== TYPE_SERVER) throw new SsAuthError(`response header type ${hdr[0]}`);
      checkTime(readTimestamp(hdr, 1), now());
      const echoed = hdr.subarray(9, 9 + method.saltSize);
      if (!echoed.every((b, i) => b === salt[i])) {
        throw new SsAuthError("response is for another request salt");
      }
      opener.expectPayload((hdr[9 + method.saltSize] << 8) | hdr[10 + method.saltSize]);
    }
    return opener;
  };

  const io = new SsStreamIO(
    src,
    out,
    sealer,
    openReader,
    sealFirst,
    [],
    opts.nodelay ? 0 : opts.flushDelayMs ?? 0,
  );
  const duplex = streamOver(io, src, inner);
  if (opts.nodelay) await io.write(new Uint8Array(0));
  return duplex;
}

/** What a server learns from a client's request. */
export interface ServerRequest {
  /** The stream to the client: reads the client's data after the header, writes sealed replies. */
  conn: Duplex;
  /** The requested destination, `host:port`. */
  target: string;
}

/**
 * Server side: reads the salt and request header from `inner` and returns the target and
 * a duplex for the rest. Throws {@link SsAuthError} for anything that does not authenticate
 * (the caller must then stay silent) and {@link SsTruncatedError} when the client left early.
 */
export async function serverHandshake(inner: Duplex, keys: StreamKeys): Promise<ServerRequest> {
  const { method, psk } = keys;
  const now = keys.now ?? Date.now;
  const max = maxPayload(method);
  const src = new CipherSource(inner);
  try {
    if (!(await src.want(method.saltSize))) throw new SsTruncatedError("the salt");
    const salt = src.view(method.saltSize).slice();
    src.consume(method.saltSize);
    const opener = new StreamOpener(
      Aead.create(method.aead, sessionSubkey(method, psk, salt)),
      src,
      max,
    );
    let initial: Uint8Array[];
    let targetBytes: Uint8Array;
    let specClient = false;
    if (method.edition === "aead") {
      const frames = await opener.readFrames();
      if (!frames) throw new SsTruncatedError("the request header");
      // A replayed salt authenticates: check it only once the key is known to be right, so
      // that the check itself cannot be probed with garbage.
      if (keys.filter?.check(salt)) throw new SsAuthError("salt replayed");
      // The address and the first data may share a chunk or not; the address may even span
      // chunks in theory, so join until it is complete.
      let head = frames.shift()!;
      for (;;) {
        const len = socksAddrLengthSafe(head);
        if (len >= 0 && head.length >= len) break;
        if (head.length > 4 + 255) throw new SsAuthError("malformed target address");
        const more = frames.length ? frames.shift()! : (await opener.readFrames())?.shift();
        if (!more) throw new SsTruncatedError("the target address");
        head = concat([head, more]);
      }
      const alen = socksAddrLength(head);
      targetBytes = head.subarray(0, alen);
      initial = [head.subarray(alen), ...frames];
    } else {
      const fixed = await opener.readSealed(11, "request header");
      if (fixed[0] !== TYPE_CLIENT) throw new SsAuthError(`request header type ${fixed[0]}`);
      checkTime(readTimestamp(fixed, 1), now());
      if (keys.filter?.check(salt)) throw new SsAuthError("salt replayed");
      const vlen = (fixed[9] << 8) | fixed[10];
      const variable = await opener.readSealed(vlen, "request header");
      const alen = socksAddrLengthSafe(variable);
      if (alen < 0 || variable.length < alen + 2) throw new SsAuthError("malformed request header");
      targetBytes = variable.subarray(0, alen);
      const padLen = (variable[alen] << 8) | variable[alen + 1];
      if (padLen > MAX_PADDING || variable.length < alen + 2 + padLen) {
        throw new SsAuthError(`bad padding length ${padLen}`);
      }
      const payload = variable.subarray(alen + 2 + padLen);
      if (payload.length === 0 && padLen === 0) throw new SsAuthError("request without payload nor padding");
      initial = [payload];
      // Only a SIP022 client puts data in its header (gost's never does): it gets SIP022's
      // response layout, every other client gets gost's.
      specClient = payload.length > 0;
    }
    let target: string;
    try {
      target = decodeSocksAddr(targetBytes).addr;
    } catch (err) {
      throw new SsAuthError(`malformed target address: ${(err as Error).message}`);
    }

    const replySalt = randomBytes(method.saltSize);
    keys.filter?.add(replySalt);
    const sealer = new StreamSealer(
      Aead.create(method.aead, sessionSubkey(method, psk, replySalt)),
      max,
    );
    const sealFirst = method.edition === "aead"
      ? (data: Uint8Array) => sealer.seal(data, replySalt)
      : (data: Uint8Array) => {
        // SIP022: the header's length is the first payload's, which follows as a bare sealed
        // chunk. gost: length 0 and the data in ordinary chunks (its client reads only that).
        const first = data.subarray(0, specClient ? Math.min(data.length, max) : 0);
        const fixed = new Uint8Array(1 + 8 + method.saltSize + 2);
        fixed[0] = TYPE_SERVER;
        timestamp(fixed, 1, now());
        fixed.set(salt, 9);
        fixed[9 + method.saltSize] = first.length >> 8;
        fixed[10 + method.saltSize] = first.length & 0xff;
        const head = specClient ? [fixed, first] : [fixed];
        return sealer.sealPieces(sealer.framePieces(data.subarray(first.length), head), replySalt);
      };
    const io = new SsStreamIO(
      src,
      innerWriter(inner),
      sealer,
      () => Promise.resolve(opener),
      sealFirst,
      initial,
    );
    const conn = streamOver(io, src, inner);
    return { conn, target };
  } catch (err) {
    src.release();
    if (err instanceof SocksAddrError) throw new SsAuthError(err.message);
    throw err;
  }
}

function socksAddrLengthSafe(b: Uint8Array): number {
  try {
    return socksAddrLength(b);
  } catch (err) {
    throw new SsAuthError((err as Error).message);
  }
}
