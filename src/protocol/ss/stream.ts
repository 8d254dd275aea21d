/**
 * The Shadowsocks TCP stream: `salt | [sealed length][sealed payload]...` each way, for the
 * AEAD (2017) and 2022 editions, as a layer over any duplex.
 *
 * The layer is a {@link DirectIO} (wrapped in an {@link IODuplex}), so `relay()` drives it with
 * its plain read loop: each write becomes one sealed output chunk written at once, and each
 * read decrypts every complete frame already received (large AES-GCM frames in parallel).
 *
 * 2022 headers are laid out as gost 3.2.6 does (padding and no initial payload in a request,
 * a response header of length 0 followed by ordinary chunks), and SIP022's layouts are
 * accepted too; docs/proxy.md has the table.
 * @module
 */
import { concat } from "../../core/bytes.ts";
import { type DirectIO, type Duplex, IODuplex, MAX_READ, MIN_READ } from "../../core/duplex.ts";
import { ReadSizer } from "../../core/read_buffer.ts";
import { decodeSocksAddr, SocksAddrError, socksAddrLength } from "../../core/socks_addr.ts";
import { Aead, type MethodInfo, NONCE_SIZE, sessionSubkey, TAG_SIZE } from "./cipher.ts";
import type { SaltFilter } from "./replay.ts";

/** Largest payload per chunk: 0x3FFF for AEAD, 0xFFFF for 2022. */
export function maxPayload(method: MethodInfo): number {
  return method.edition === "2022" ? 0xffff : 0x3fff;
}

/** 2022: the header type of a client's request (TCP) or packet (UDP). */
export const TYPE_CLIENT = 0;
/** 2022: the header type of a server's response (TCP) or packet (UDP). */
export const TYPE_SERVER = 1;
/** 2022: timestamps further than this from our clock are replays. */
export const MAX_TIME_DIFF_S = 30;
/** 2022: most padding a header may carry. */
export const MAX_PADDING = 900;

/**
 * The peer's bytes do not authenticate (wrong key, forged or replayed salt, bad header).
 * Servers answer it with silence, never with a distinguishable close.
 */
export class SsAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SsAuthError";
  }
}

/** The encrypted stream ended in the middle of a frame or header. */
export class SsTruncatedError extends Error {
  constructor(what: string) {
    super(`connection closed inside ${what}`);
    this.name = "SsTruncatedError";
  }
}

const MIN_BUF = MIN_READ;

/**
 * Buffered ciphertext from the inner duplex. The buffer starts small, grows (×4, to 256 KiB:
 * {@link ReadSizer}) while reads fill it, and is compacted in place, so it stays bounded on
 * long streams.
 */
export class CipherSource {
  #direct?: DirectIO;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  readonly #sizer = new ReadSizer(MIN_READ, MAX_READ);
  #buf = new Uint8Array(MIN_BUF);
  #start = 0;
  #end = 0;
  #eof = false;

  constructor(inner: Duplex) {
    this.#direct = inner.direct;
    if (!this.#direct) this.#reader = inner.readable.getReader();
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  get eof(): boolean {
    return this.#eof;
  }

  /** The next `n` buffered bytes (a view valid until the next fill). */
  view(n: number): Uint8Array {
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Makes room for `need` buffered bytes in total. */
  #room(need: number): void {
    const live = this.#end - this.#start;
    if (this.#buf.length - this.#start >= need && this.#buf.length - this.#end >= 512) return;
    if (this.#buf.length >= need && this.#start > 0 && this.#buf.length - live >= 512) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(need, live + MIN_BUF, this.#buf.length));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }

  /** Reads more bytes; false at end of stream. `need` is the total the caller waits for. */
  async fill(need = 0): Promise<boolean> {
    if (this.#eof) return false;
    this.#room(need);
    if (this.#direct) {
      const space = this.#buf.subarray(this.#end);
      const n = await this.#direct.read(space);
      if (n === null) {
        this.#eof = true;
        return false;
      }
      this.#end += n;
      if (n === space.length && this.#sizer.filled(this.#buf.length)) this.#grow(this.#sizer.size);
      return true;
    }
    const r = await this.#reader!.read();
    if (r.done) {
      this.#eof = true;
      return false;
    }
    if (this.#buf.length - this.#end < r.value.length) this.#room(this.buffered + r.value.length);
    if (this.#buf.length - this.#end < r.value.length) this.#grow(this.buffered + r.value.length);
    this.#buf.set(r.value, this.#end);
    this.#end += r.value.length;
    return true;
  }

  #grow(size: number): void {
    const next = new Uint8Array(Math.max(size, MIN_BUF));
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = next;
  }

  /** Ensures `n` bytes are buffered; false if the stream ended first. */
  async want(n: number): Promise<boolean> {
    while (this.buffered < n) if (!(await this.fill(n))) return false;
    return true;
  }

  /** Gives the inner duplex's readable back (after a failed handshake). */
  release(): void {
    try {
      this.#reader?.releaseLock();
    } catch {
      // a read is still pending: the duplex is being closed anyway
    }
  }

  /** Releases the stream reader (if any). */
  cancel(): void {
    this.#reader?.cancel().catch(() => {});
  }
}

/** `#pendingLen` while a length chunk is due, maybe after an empty payload chunk (a tag alone). */
const MAYBE_EMPTY = -2;

/** Decrypts one direction: sealed headers, then length/payload frames. */
export class StreamOpener {
  readonly #nonce = new Uint8Array(NONCE_SIZE);
  /** Length of the payload chunk due next; -1: a length chunk is due. */
  #pendingLen = -1;

  constructor(readonly aead: Aead, readonly src: CipherSource, readonly max: number) {}

  /** Reads and opens one sealed message of `n` plaintext bytes (headers). */
  async readSealed(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.src.want(n + TAG_SIZE))) throw new SsTruncatedError(what);
    const plain = this.aead.openSync(this.#nonce, this.src.view(n + TAG_SIZE));
    if (!plain) throw new SsAuthError(`${what} does not authenticate (wrong key or forged)`);
    this.src.consume(n + TAG_SIZE);
    incrementNonce(this.#nonce);
    return plain.slice();
  }

  /**
   * 2022: the first payload's length comes from a header, not a length chunk. A length of 0
   * is ambiguous: gost sends a length chunk straight away, SIP022 an empty payload chunk (16
   * bytes, the tag alone) first; the next bytes are tried as gost's (no extra work for it).
   */
  expectPayload(len: number): void {
    this.#pendingLen = len === 0 ? MAYBE_EMPTY : len;
  }

  /**
   * After a length-0 header, the bytes that did not open as gost's length chunk: SIP022's
   * empty first payload chunk (the tag alone)? Then it is consumed.
   */
  #openEmpty(): boolean {
    if (this.#pendingLen !== MAYBE_EMPTY || !this.aead.openSync(this.#nonce, this.src.view(TAG_SIZE))) {
      return false;
    }
    incrementNonce(this.#nonce);
    this.src.consume(TAG_SIZE);
    this.#pendingLen = -1;
    return true;
  }

  /**
   * Opens every complete frame already buffered, reading more until there is one; null at
   * a clean end of stream (between frames).
   */
  async readFrames(): Promise<Uint8Array[] | null> {
    for (;;) {
      const out: (Uint8Array | Promise<Uint8Array | null> | null)[] = [];
      const src = this.src;
      for (;;) {
        if (this.#pendingLen < 0) {
          if (src.buffered < 2 + TAG_SIZE) break;
          const len = this.aead.openSync(this.#nonce, src.view(2 + TAG_SIZE));
          if (!len) {
            if (this.#openEmpty()) continue;
            throw new SsAuthError("length chunk does not authenticate");
          }
          incrementNonce(this.#nonce);
          src.consume(2 + TAG_SIZE);
          const n = (len[0] << 8) | len[1];
          if (n > this.max) throw new SsAuthError(`payload length ${n} exceeds ${this.max}`);
          this.#pendingLen = n;
        }
        const need = this.#pendingLen + TAG_SIZE;
        if (src.buffered < need) break;
        // Web Crypto copies nonce and data at the call: both may change right after.
        out.push(this.aead.open(this.#nonce, src.view(need)));
        incrementNonce(this.#nonce);
        src.consume(need);
        this.#pendingLen = -1;
      }
      if (out.length > 0) {
        const plain = out.some((p) => p instanceof Promise)
          ? await Promise.all(out)
          : out as (Uint8Array | null)[];
        const result: Uint8Array[] = [];
        for (const p of plain) {
          if (!p) throw new SsAuthError("payload chunk does not authenticate");
          if (p.length) result.push(p);
        }
        if (result.length) return result;
        continue;
      }
      const want = this.#pendingLen < 0 ? 2 + TAG_SIZE : this.#pendingLen + TAG_SIZE;
      if (!(await src.fill(want))) {
        if (src.buffered === TAG_SIZE) this.#openEmpty();
        if (src.buffered === 0 && this.#pendingLen < 0) return null;
        throw new SsTruncatedError("a chunk");
      }
    }
  }
}

/** Encrypts one direction: every write becomes one output buffer of sealed chunks. */
export class StreamSealer {
  readonly #nonce = new Uint8Array(NONCE_SIZE);

  constructor(readonly aead: Aead, readonly max: number) {}

  /** Seals each of `pieces` as its own AEAD message, after the raw `prefix`, into one buffer. */
  async sealPieces(pieces: Uint8Array[], prefix?: Uint8Array): Promise<Uint8Array> {
    let total = prefix?.length ?? 0;
    for (const p of pieces) total += p.length + TAG_SIZE;
    const out = new Uint8Array(total);
    let off = 0;
    if (prefix) {
      out.set(prefix);
      off = prefix.length;
    }
    let pending: Promise<void>[] | undefined;
    for (const p of pieces) {
      const wait = this.aead.seal(this.#nonce, p, out, off);
      if (wait) (pending ??= []).push(wait);
      incrementNonce(this.#nonce);
      off += p.length + TAG_SIZE;
    }
    if (pending) await Promise.all(pending);
    return out;
  }

  /** The pieces (length, payload, …) that carry `data` in chunks of at most `max` bytes. */
  framePieces(data: Uint8Array, into: Uint8Array[] = []): Uint8Array[] {
    for (let off = 0; off < data.length; off += this.max) {
      const n = Math.min(this.max, data.length - off);
      into.push(new Uint8Array([n >> 8, n & 0xff]), data.subarray(off, off + n));
    }
    return into;
  }

  /** Seals `data` as frames, after `prefix` (salt) if given. */
  seal(data: Uint8Array, prefix?: Uint8Array): Promise<Uint8Array> {
    return this.sealPieces(this.framePieces(data), prefix);
  }
}

function incrementNonce(n: Uint8Array): void {
  for (let i = 0; i < n.length; i++) {
    n[i] = (n[i] + 1) & 0xff;
    if (n[i] !== 0) return;
  }
}

/** Writes to the inner duplex without copying (each buffer we hand over is fresh). */
function innerWriter(inner: Duplex): { write(b: Uint8Array): Promise<void>; closeWrite(): Promise<void> } {
  const d = inner.direct;
  if (d) return { write: (b) => d.write(b), closeWrite: () => d.closeWrite() };
  const w = inner.writable.getWriter();
  return {
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

  constructor(
    readonly src: CipherSource,
    readonly out: { write(b: Uint8Array): Promise<void>; closeWrite(): Promise<void> },
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
        sealed = await this.sealer.seal(data);
      }
      await this.out.write(sealed);
    });
    this.#writeChain = p.catch(() => {});
    return p;
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
  const duplex = new IODuplex(
    io,
    () => {
      io.dispose();
      src.cancel();
      inner.close();
    },
    inner.local,
    inner.remote,
  );
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
    const conn = new IODuplex(
      io,
      () => {
        io.dispose();
        src.cancel();
        inner.close();
      },
      inner.local,
      inner.remote,
    );
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
