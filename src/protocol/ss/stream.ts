/**
 * The Shadowsocks TCP stream's chunk codec: `salt | [sealed length][sealed payload]...` each
 * way, for the AEAD (2017) and 2022 editions; the handshakes that start a stream are in
 * handshake.ts.
 *
 * handshake.ts wraps it in a DirectIO (an IODuplex), so `relay()` drives it with its plain read
 * loop: each write becomes one sealed output chunk written at once, and each read decrypts every
 * complete frame already received — on libcrypto straight into the reader's buffer, on Web Crypto
 * (large AES-GCM frames) in parallel.
 * @module
 */
import { type DirectIO, type Duplex, MAX_READ, MIN_READ } from "../../core/duplex.ts";
import { ReadSizer } from "../../core/read_buffer.ts";
import { Aead, type MethodInfo, NONCE_SIZE, TAG_SIZE } from "./cipher.ts";

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
   * Opens the length chunk when one is due and buffered; false when more bytes are needed first.
   * After it, `#pendingLen` is the next payload's length.
   */
  #lengthReady(): boolean {
    if (this.#pendingLen >= 0) return true;
    const src = this.src;
    if (src.buffered < 2 + TAG_SIZE) return false;
    const len = this.aead.openSync(this.#nonce, src.view(2 + TAG_SIZE));
    if (!len) {
      if (this.#openEmpty()) return this.#lengthReady();
      throw new SsAuthError("length chunk does not authenticate");
    }
    incrementNonce(this.#nonce);
    src.consume(2 + TAG_SIZE);
    const n = (len[0] << 8) | len[1];
    if (n > this.max) throw new SsAuthError(`payload length ${n} exceeds ${this.max}`);
    this.#pendingLen = n;
    return true;
  }

  /** Reads more ciphertext for the frame due; false at a clean end of stream (between frames). */
  async #more(): Promise<boolean> {
    const src = this.src;
    const want = this.#pendingLen < 0 ? 2 + TAG_SIZE : this.#pendingLen + TAG_SIZE;
    if (await src.fill(want)) return true;
    if (src.buffered === TAG_SIZE) this.#openEmpty();
    if (src.buffered === 0 && this.#pendingLen < 0) return false;
    throw new SsTruncatedError("a chunk");
  }

  /**
   * True when {@link readInto} may be used: the key opens synchronously (libcrypto), so
   * payloads can be decrypted straight into the reader's buffer.
   */
  get direct(): boolean {
    return this.aead.native;
  }

  /**
   * Opens complete frames straight into `buf` (only when {@link direct}), reading more until
   * there is one: the bytes written, 0 when the next payload is larger than `buf` (then use
   * {@link readFrames}), null at a clean end of stream. No copy and no allocation per frame.
   */
  async readInto(buf: Uint8Array): Promise<number | null> {
    const src = this.src;
    for (;;) {
      let n = 0;
      while (this.#lengthReady()) {
        const len = this.#pendingLen;
        if (src.buffered < len + TAG_SIZE || len > buf.length - n) break;
        if (!this.aead.openTo(this.#nonce, src.view(len + TAG_SIZE), buf, n)) {
          throw new SsAuthError("payload chunk does not authenticate");
        }
        incrementNonce(this.#nonce);
        src.consume(len + TAG_SIZE);
        this.#pendingLen = -1;
        n += len;
      }
      if (n > 0) return n;
      if (this.#pendingLen > buf.length) return 0;
      if (!(await this.#more())) return null;
    }
  }

  /**
   * Opens every complete frame already buffered, reading more until there is one; null at
   * a clean end of stream (between frames).
   */
  async readFrames(): Promise<Uint8Array[] | null> {
    for (;;) {
      const out: (Uint8Array | Promise<Uint8Array | null> | null)[] = [];
      const src = this.src;
      while (this.#lengthReady()) {
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
      if (!(await this.#more())) return null;
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

  /** True when {@link sealTo} may be used: the key seals synchronously (libcrypto). */
  get direct(): boolean {
    return this.aead.native;
  }

  /** Bytes of `n` plaintext bytes sealed as frames. */
  sealedSize(n: number): number {
    return n + Math.ceil(n / this.max) * (2 + 2 * TAG_SIZE);
  }

  /**
   * Seals `data` as frames into `out` from its start ({@link sealedSize} bytes), each length
   * sealed in place: no allocation per frame. Only when {@link direct}.
   */
  sealTo(data: Uint8Array, out: Uint8Array): number {
    let off = 0;
    for (let at = 0; at < data.length; at += this.max) {
      const n = Math.min(this.max, data.length - at);
      out[off] = n >> 8;
      out[off + 1] = n & 0xff;
      this.aead.sealInto(this.#nonce, out.subarray(off, off + 2), out, off);
      incrementNonce(this.#nonce);
      off += 2 + TAG_SIZE;
      this.aead.sealInto(this.#nonce, data.subarray(at, at + n), out, off);
      incrementNonce(this.#nonce);
      off += n + TAG_SIZE;
    }
    return off;
  }
}

function incrementNonce(n: Uint8Array): void {
  for (let i = 0; i < n.length; i++) {
    n[i] = (n[i] + 1) & 0xff;
    if (n[i] !== 0) return;
  }
}
