/**
 * A KCP session: the ARQ state machine with kcp-go's packet layers (FEC, then CRC and
 * encryption) over any datagram transport, presented as a {@link Duplex} of the reliable
 * byte stream (stream mode, as gost and kcptun run it).
 *
 * The session owns no socket: datagrams come in through {@link KcpSession.input} and leave
 * through the `send` callback, so the same code runs over a UDP socket shared by a listener,
 * a dialer's own socket, or a datagram duplex tunnelled through earlier hops of a chain.
 * Work per datagram is synchronous (no promise besides the socket's own).
 * @module
 */
import type { DirectIO, Duplex } from "../../core/duplex.ts";
import { Arq, currentMs, OVERHEAD } from "./arq.ts";
import { type BlockCrypt, CRYPT_HEADER_SIZE, openPacket, sealPacket } from "./crypt.ts";
import { FEC_HEADER_SIZE_PLUS2, FecDecoder, FecEncoder, TYPE_DATA, TYPE_PARITY } from "./fec.ts";
import { DEFAULT_PACER, Pacer } from "./pacer.ts";
import { Slab } from "./slab.ts";

/** What a session needs to know about the wire and its tuning. */
export interface SessionConfig {
  /** The packet cipher, or null for bare KCP packets without the nonce/CRC header. */
  crypt: BlockCrypt | null;
  dataShards: number;
  parityShards: number;
  mtu: number;
  sndWnd: number;
  rcvWnd: number;
  nodelay: number;
  interval: number;
  resend: number;
  nc: number;
  ackNoDelay: boolean;
  /** Pace outgoing datagrams to the delivery rate (see pacer.ts) instead of sending window-sized bursts. */
  pacing: boolean;
}

/** Counters of what was dropped or repaired, for logs and tests. */
export interface SessionStats {
  inPackets: number;
  outPackets: number;
  /** Datagrams that failed decryption / CRC or were too short. */
  checksumErrors: number;
  /** KCP input errors (wrong conversation, malformed segments). */
  kcpErrors: number;
  fecRecovered: number;
  fecParity: number;
}

/** The largest chunk handed to the reader at once. */
const MAX_READ_CHUNK = 256 * 1024;

/** Reads the conversation id of a datagram body (after the crypt header), or null. */
export function conversationOf(body: Uint8Array): { conv: number; sn: number } | null {
  if (body.length < OVERHEAD) return null;
  const flag = body[4] | (body[5] << 8);
  let o = 0;
  if (flag === TYPE_DATA || flag === TYPE_PARITY) {
    // Parity packets carry no conversation; only data packets can open a session.
    if (flag !== TYPE_DATA || body.length < FEC_HEADER_SIZE_PLUS2 + OVERHEAD) return null;
    o = FEC_HEADER_SIZE_PLUS2;
  }
  const u32 = (p: number) => (body[p] | (body[p + 1] << 8) | (body[p + 2] << 16) | (body[p + 3] << 24)) >>> 0;
  return { conv: u32(o), sn: u32(o + 12) };
}

/** A KCP session as a duplex byte stream. */
export class KcpSession implements Duplex {
  readonly arq: Arq;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Reads into the reader's own buffer straight from the received segments, and writes without
   * a stream in between: the framing layers above (snappy, smux) read through it with their
   * {@link ChunkReader}, which then neither joins chunks nor copies a frame that straddles two.
   */
  readonly direct: DirectIO = {
    read: (buf) => this.#read(buf),
    write: (data) => this.#write(data),
    // A KCP session has no half-close; the stream layered on top (smux) carries FIN.
    closeWrite: () => Promise.resolve(),
  };
  readonly stats: SessionStats = {
    inPackets: 0,
    outPackets: 0,
    checksumErrors: 0,
    kcpErrors: 0,
    fecRecovered: 0,
    fecParity: 0,
  };
  /** When the last valid datagram arrived (ms, {@link currentMs} clock). */
  lastInput = currentMs();
  readonly #crypt: BlockCrypt | null;
  readonly #fecEnc: FecEncoder | null;
  readonly #fecDec: FecDecoder | null;
  readonly #ackNoDelay: boolean;
  readonly #send: (pkt: Uint8Array) => void;
  readonly #pacer: Pacer | null;
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  #error: Error | null = null;
  #wakeReader: (() => void) | null = null;
  #wakeWriter: (() => void) | null = null;
  readonly #onClose: Set<(s: KcpSession) => void> = new Set();

  /**
   * @param send takes each outgoing datagram, lent for the call only: the session writes the
   * next one over the same bytes, so a sender that does not hand them to the kernel before it
   * returns (an async socket write, a queue) must copy them.
   */
  constructor(
    conv: number,
    cfg: SessionConfig,
    send: (pkt: Uint8Array) => void,
    readonly local = "",
    readonly remote = "",
  ) {
    this.#crypt = cfg.crypt;
    this.#ackNoDelay = cfg.ackNoDelay;
    const fec = cfg.dataShards > 0 && cfg.parityShards > 0;
    this.#send = send;
    const cryptHeader = cfg.crypt ? CRYPT_HEADER_SIZE : 0;
    // Outgoing segments (and datagrams and parity, were they not lent) share one slab.
    const slab = new Slab();
    this.#fecEnc = fec ? new FecEncoder(cfg.dataShards, cfg.parityShards, cryptHeader, slab) : null;
    this.#fecDec = fec ? new FecDecoder(cfg.dataShards, cfg.parityShards) : null;
    const arq = this.arq = new Arq(conv, (pkt) => this.#output(pkt), slab);
    // Datagrams and parity are lent to `send` (see the constructor's note): none is allocated.
    arq.lendOutput = true;
    this.#fecEnc?.lendParity();
    arq.reserveBytes(cryptHeader + (fec ? FEC_HEADER_SIZE_PLUS2 : 0));
    arq.setMtu(cfg.mtu);
    arq.setNoDelay(cfg.nodelay, cfg.interval, cfg.resend, cfg.nc);
    arq.setWindowSize(cfg.sndWnd, cfg.rcvWnd);
    arq.stream = true;
    if (cfg.pacing) {
      this.#pacer = arq.budget = new Pacer(() => {
        if (!this.#closed) arq.flush(false);
      }, { ...DEFAULT_PACER, datagramsPerSegment: fec ? 1 + cfg.parityShards / cfg.dataShards : 1 });
    } else this.#pacer = null;
    this.#timer = setInterval(() => this.#tick(), arq.interval);

    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          const chunk = this.arq.recvAll(MAX_READ_CHUNK);
          if (chunk) {
            controller.enqueue(chunk);
            // Reading opened the receive window: tell a stalled peer right away.
            if (this.arq.probe) this.arq.flush(false);
            return;
          }
          if (this.#closed) {
            if (this.#error) controller.error(this.#error);
            else controller.close();
            return;
          }
          await new Promise<void>((r) => this.#wakeReader = r);
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });

    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      // A KCP session has no half-close; the stream layered on top (smux) carries FIN.
      close: () => {},
      abort: () => this.close(),
    }, { highWaterMark: 1 });
  }

  /** Queues `chunk` once the send window has room, and sends what the window allows. */
  async #write(chunk: Uint8Array): Promise<void> {
    while (!this.#closed && this.#sendBlocked()) {
      await new Promise<void>((r) => this.#wakeWriter = r);
    }
    if (this.#closed) throw this.#error ?? new Error("kcp: session closed");
    this.arq.send(chunk);
    this.arq.flush(false);
  }

  /** Fills `buf` from the received stream: the byte count, or null once the session closed. */
  async #read(buf: Uint8Array): Promise<number | null> {
    for (;;) {
      const n = this.arq.recvInto(buf);
      if (n > 0) {
        // Reading opened the receive window: tell a stalled peer right away.
        if (this.arq.probe) this.arq.flush(false);
        return n;
      }
      if (this.#closed) {
        if (this.#error) throw this.#error;
        return null;
      }
      await new Promise<void>((r) => this.#wakeReader = r);
    }
  }

  #sendBlocked(): boolean {
    const w = this.arq.waitSnd();
    return w >= this.arq.sndWnd || w >= this.arq.rmtWnd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Datagram, segment and repair counters in one line, for a debug log when the session ends. */
  summary(): string {
    const s = this.stats, a = this.arq.stats;
    return `datagrams in ${s.inPackets} out ${s.outPackets}, segments in ${a.inSegs} out ${a.outSegs}, ` +
      `retransmitted ${a.retransSegs} (fast ${a.fastRetransSegs}, timeout ${a.lostSegs}), ` +
      `duplicates ${a.repeatSegs}, fec rebuilt ${s.fecRecovered}, bad ${s.checksumErrors + s.kcpErrors}`;
  }

  /** Registers a callback run once when the session closes. */
  onClose(fn: (s: KcpSession) => void): void {
    if (this.#closed) fn(this);
    else this.#onClose.add(fn);
  }

  #tick(): void {
    if (this.#closed) return;
    this.arq.update();
    if (this.arq.dead) this.close(new Error("kcp: peer stopped acknowledging (dead link)"));
    else this.#wake();
  }

  #wake(): void {
    if (this.#wakeReader && this.arq.rcvQueue.length > 0) {
      const r = this.#wakeReader;
      this.#wakeReader = null;
      r();
    }
    if (this.#wakeWriter && !this.#sendBlocked()) {
      const w = this.#wakeWriter;
      this.#wakeWriter = null;
      w();
    }
  }

  /** Datagrams from the ARQ: FEC-mark, add parity, seal, send. */
  #output(pkt: Uint8Array): void {
    const parity = this.#fecEnc ? this.#fecEnc.encode(pkt) : null;
    if (this.#crypt) sealPacket(this.#crypt, pkt);
    this.#send(pkt);
    this.stats.outPackets++;
    if (parity) {
      for (const p of parity) {
        if (this.#crypt) sealPacket(this.#crypt, p);
        this.#send(p);
        this.stats.outPackets++;
      }
    }
  }

  /**
   * Takes one received datagram, decrypted in place. What the session keeps of it (FEC shards,
   * received segments) it copies into buffers it reuses, so the caller may receive every
   * datagram into the same buffer. Returns false when it was dropped (bad CRC, too short, wrong
   * conversation).
   */
  input(datagram: Uint8Array): boolean {
    if (this.#closed) return false;
    let body: Uint8Array | null = datagram;
    if (this.#crypt) {
      body = openPacket(this.#crypt, datagram);
      if (!body) {
        this.stats.checksumErrors++;
        return false;
      }
    }
    return this.inputBody(body);
  }

  /** Takes a datagram body whose crypt header was already checked and removed (copied, as in `input`). */
  inputBody(body: Uint8Array): boolean {
    if (this.#closed) return false;
    if (body.length < OVERHEAD) {
      this.stats.checksumErrors++;
      return false;
    }
    this.stats.inPackets++;
    const arq = this.arq;
    const delivered = arq.delivered;
    let ok = true;
    const flag = body[4] | (body[5] << 8);
    if (flag === TYPE_DATA || flag === TYPE_PARITY) {
      if (body.length < FEC_HEADER_SIZE_PLUS2) return false;
      if (flag === TYPE_PARITY) this.stats.fecParity++;
      const recovered = this.#fecDec ? this.#fecDec.decode(body) : [];
      if (
        flag === TYPE_DATA && arq.input(body.subarray(FEC_HEADER_SIZE_PLUS2), true, this.#ackNoDelay) !== 0
      ) {
        this.stats.kcpErrors++;
        ok = false;
      }
      for (const r of recovered) {
        const size = r[0] | (r[1] << 8);
        if (size >= 2 && size <= r.length && arq.input(r.subarray(2, size), false, this.#ackNoDelay) === 0) {
          this.stats.fecRecovered++;
        } else this.stats.kcpErrors++;
      }
    } else if (arq.input(body, true, this.#ackNoDelay) !== 0) {
      this.stats.kcpErrors++;
      ok = false;
    }
    if (ok) this.lastInput = currentMs();
    if (this.#pacer && arq.delivered !== delivered) this.#pacer.delivered(arq.delivered - delivered);
    this.#wake();
    return ok;
  }

  /** Closes the session (no KCP-level goodbye exists); readers see end of stream, or `err`. */
  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = err ?? null;
    clearInterval(this.#timer);
    this.#pacer?.close();
    this.arq.release();
    const r = this.#wakeReader, w = this.#wakeWriter;
    this.#wakeReader = this.#wakeWriter = null;
    r?.();
    w?.();
    for (const fn of this.#onClose) {
      try {
        fn(this);
      } catch {
        // a close callback must not stop the others
      }
    }
    this.#onClose.clear();
  }
}
