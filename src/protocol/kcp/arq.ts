/**
 * The KCP automatic-repeat-request protocol, behaving like kcp-go's (v5.6) state machine
 * so that it interoperates with gost and kcptun: segments, cumulative and selective
 * acknowledgements, RTO estimation, fast and early retransmission, window probing,
 * congestion control and stream mode.
 *
 * Segment header (24 bytes, little-endian):
 * `conv(4) cmd(1) frg(1) wnd(2) ts(4) sn(4) una(4) len(4)` followed by `len` data bytes.
 * Several segments share one datagram up to the MTU. The machine is driven from outside:
 * `input()` with each received KCP payload, `update()` every `interval` ms, `send()` with
 * outgoing bytes; datagrams leave through the `output` callback.
 * @module
 */

import { Slab } from "./slab.ts";
import type { SendBudget } from "./pacer.ts";

export const OVERHEAD = 24;
export const CMD_PUSH = 81;
export const CMD_ACK = 82;
export const CMD_WASK = 83;
export const CMD_WINS = 84;

const RTO_NDL = 30;
const RTO_MIN = 100;
const RTO_DEF = 200;
const RTO_MAX = 60000;
const ASK_SEND = 1;
const ASK_TELL = 2;
const WND_SND = 32;
const WND_RCV = 32;
const MTU_DEF = 1400;
const INTERVAL = 100;
const DEADLINK = 20;
const THRESH_INIT = 2;
const THRESH_MIN = 2;
const PROBE_INIT = 7000;
const PROBE_LIMIT = 120000;
/** Bytes of a reused receive room: kcp-go's largest datagram. */
const RECEIVE_ROOM = 1500;
/** Acks queued beyond this many are sent at once instead of at the next tick. */
const ACK_BATCH = 48;
/**
 * Rooms kept for reuse, per window segment: acknowledged segments' rooms for new ones (stream
 * mode), read segments' rooms for the next received. Without them the sender took one MSS of
 * fresh space per segment and dropped it an RTT later — as much garbage as it sent, which lived
 * long enough to be promoted and so waited for a full collection (tens of MB under KCP load). A
 * full window in flight plus one more queued behind it is the most a session ever holds; the
 * rooms go back to the garbage collector once the session is idle (see `update`).
 */
const SPARE_ROOMS_PER_WINDOW_SEGMENT = 2;

const started = performance.now();
/** Milliseconds on a monotonic clock, as a wrapping uint32. */
export function currentMs(): number {
  return (performance.now() - started) >>> 0;
}

/** Signed difference of two wrapping uint32 times or sequence numbers. */
function diff(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

interface Segment {
  frg: number;
  ts: number;
  sn: number;
  rto: number;
  xmit: number;
  resendts: number;
  fastack: number;
  acked: boolean;
  data: Uint8Array;
  /** Outgoing stream-mode segments: `data` plus the room it may grow into (one MSS), else null. */
  room: Uint8Array | null;
}

function segment(data: Uint8Array, sn = 0, frg = 0, ts = 0, room: Uint8Array | null = null): Segment {
  return { frg, ts, sn, rto: 0, xmit: 0, resendts: 0, fastack: 0, acked: false, data, room };
}

/** A simple array-backed FIFO that drops from the front without shifting every time. */
class Queue<T> {
  items: T[] = [];
  head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  at(i: number): T {
    return this.items[this.head + i];
  }
  push(v: T): void {
    this.items.push(v);
  }
  last(): T | undefined {
    return this.length > 0 ? this.items[this.items.length - 1] : undefined;
  }
  dropFront(n: number): void {
    this.head += n;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** Counters for logs and tests. */
export interface ArqStats {
  inSegs: number;
  outSegs: number;
  retransSegs: number;
  fastRetransSegs: number;
  lostSegs: number;
  repeatSegs: number;
}

/** One KCP conversation. */
export class Arq {
  readonly conv: number;
  mtu = MTU_DEF;
  mss = MTU_DEF - OVERHEAD;
  /** Set when a segment was sent `deadLink` times without an ack. */
  dead = false;
  sndUna = 0;
  sndNxt = 0;
  rcvNxt = 0;
  ssthresh = THRESH_INIT;
  rxRttvar = 0;
  rxSrtt = 0;
  rxRto = RTO_DEF;
  rxMinrto = RTO_MIN;
  sndWnd = WND_SND;
  rcvWnd = WND_RCV;
  rmtWnd = WND_RCV;
  cwnd = 0;
  probe = 0;
  interval = INTERVAL;
  tsFlush = INTERVAL;
  nodelay = 0;
  updated = false;
  tsProbe = 0;
  probeWait = 0;
  deadLink = DEADLINK;
  incr = 0;
  fastresend = 0;
  nocwnd = false;
  stream = false;
  /** Bytes in front of every datagram left for the FEC and crypt headers. */
  reserved = 0;

  readonly sndQueue = new Queue<Segment>();
  readonly rcvQueue = new Queue<Segment>();
  sndBuf: Segment[] = [];
  rcvBuf: Segment[] = [];
  acklist: number[] = [];
  #buffer: Uint8Array;
  /** Whole-MSS rooms of acknowledged segments, for `send` to reuse (see {@link SPARE_ROOMS_PER_WINDOW_SEGMENT}). */
  #spare: Uint8Array[] = [];
  /** Rooms of received segments the application has read, for `input` to reuse. */
  #rcvSpare: Uint8Array[] = [];
  readonly stats: ArqStats = {
    inSegs: 0,
    outSegs: 0,
    retransSegs: 0,
    fastRetransSegs: 0,
    lostSegs: 0,
    repeatSegs: 0,
  };

  /**
   * @param output called with each datagram: `reserved` free bytes, then KCP segments. The
   * buffer is the callee's to keep, unless {@link lendOutput} is set.
   * @param slab where outgoing segments and datagrams are carved from.
   */
  /** Segments the peer has acknowledged so far (each counted once, by una or by its own ack). */
  delivered = 0;
  /** When set, data is sent only as far as this budget allows (acks always go); see pacer.ts. */
  budget: SendBudget | null = null;
  /**
   * When true, `output` is lent a view of the ARQ's own datagram buffer, valid only until it
   * returns (the next datagram is written over it): no copy per datagram. When false, each
   * datagram is a fresh copy the callee may keep.
   */
  lendOutput = false;

  constructor(
    conv: number,
    readonly output: (pkt: Uint8Array) => void,
    readonly slab: Slab = new Slab(),
  ) {
    this.conv = conv >>> 0;
    this.#buffer = new Uint8Array(this.mtu);
  }

  /** Leaves `n` bytes at the front of every datagram for outer headers. */
  reserveBytes(n: number): void {
    if (n < 0 || n >= this.mtu - OVERHEAD) throw new Error(`cannot reserve ${n} bytes of a ${this.mtu} MTU`);
    this.reserved = n;
    this.mss = this.mtu - OVERHEAD - n;
    this.#spare = [];
  }

  setMtu(mtu: number): void {
    if (mtu < 50 || mtu - OVERHEAD - this.reserved <= 0) throw new Error(`invalid KCP MTU ${mtu}`);
    this.mtu = mtu;
    this.mss = mtu - OVERHEAD - this.reserved;
    this.#buffer = new Uint8Array(mtu);
    this.#spare = [];
  }

  /** kcp-go's `NoDelay(nodelay, interval, resend, nc)`; interval is clamped to [10, 5000]. */
  setNoDelay(nodelay: number, interval: number, resend: number, nc: number): void {
    this.nodelay = nodelay;
    this.rxMinrto = nodelay ? RTO_NDL : RTO_MIN;
    this.interval = Math.min(5000, Math.max(10, interval));
    this.fastresend = resend;
    this.nocwnd = nc !== 0;
  }

  setWindowSize(sndwnd: number, rcvwnd: number): void {
    if (sndwnd > 0) this.sndWnd = sndwnd;
    if (rcvwnd > 0) this.rcvWnd = rcvwnd;
  }

  /** Segments waiting to be sent or acknowledged. */
  waitSnd(): number {
    return this.sndBuf.length + this.sndQueue.length;
  }

  /** Bytes ready for the application (stream mode: all queued segments). */
  readyBytes(): number {
    let n = 0;
    for (let i = 0; i < this.rcvQueue.length; i++) n += this.rcvQueue.at(i).data.length;
    return n;
  }

  /**
   * Takes everything the application can read now, as one chunk (stream mode), or null.
   * Reading frees receive window; a full window that opens up is announced to the peer.
   */
  recvAll(max = 1 << 20): Uint8Array | null {
    const q = this.rcvQueue;
    if (q.length === 0) return null;
    const fastRecover = q.length >= this.rcvWnd;
    let total = 0, count = 0;
    while (count < q.length && (count === 0 || total + q.at(count).data.length <= max)) {
      total += q.at(count).data.length;
      count++;
    }
    let out: Uint8Array;
    if (count === 1) out = q.at(0).data;
    else {
      out = new Uint8Array(total);
      for (let i = 0, o = 0; i < count; i++) {
        const seg = q.at(i);
        out.set(seg.data, o);
        o += seg.data.length;
        this.#recycleReceived(seg);
      }
    }
    q.dropFront(count);
    this.#moveReady();
    if (q.length < this.rcvWnd && fastRecover) this.probe |= ASK_TELL;
    return out;
  }

  /**
   * Copies as much of what the application can read now as fits into `buf` (stream mode; a
   * segment that does not fit whole is left with its remainder) and returns the byte count.
   * One copy from the received datagrams to the reader's buffer, none in between.
   */
  recvInto(buf: Uint8Array): number {
    const q = this.rcvQueue;
    if (q.length === 0) return 0;
    const fastRecover = q.length >= this.rcvWnd;
    let n = 0, count = 0;
    while (count < q.length && n < buf.length) {
      const seg = q.at(count);
      const d = seg.data, room = buf.length - n;
      if (d.length <= room) {
        buf.set(d, n);
        n += d.length;
        count++;
        this.#recycleReceived(seg);
      } else {
        buf.set(d.subarray(0, room), n);
        n += room;
        seg.data = d.subarray(room);
      }
    }
    q.dropFront(count);
    this.#moveReady();
    if (q.length < this.rcvWnd && fastRecover) this.probe |= ASK_TELL;
    return n;
  }

  /** A received segment's room, once nothing reads it again, goes to the next one received. */
  #recycleReceived(seg: Segment): void {
    if (seg.room && this.#rcvSpare.length < this.rcvWnd * SPARE_ROOMS_PER_WINDOW_SEGMENT) {
      this.#rcvSpare.push(seg.room);
    }
    seg.room = null;
  }

  /**
   * A received segment holding its own copy of `bytes` (in a reused room where one fits): the
   * datagram it came in stays the caller's, and no block of received datagrams is kept alive.
   */
  #received(bytes: Uint8Array, sn: number, frg: number, ts: number): Segment {
    if (bytes.length > RECEIVE_ROOM) return segment(bytes.slice(), sn, frg, ts);
    const room = this.#rcvSpare.pop() ?? new Uint8Array(RECEIVE_ROOM);
    room.set(bytes);
    return segment(room.subarray(0, bytes.length), sn, frg, ts, room);
  }

  /** Moves in-order segments from the receive buffer to the receive queue, within the window. */
  #moveReady(): void {
    let count = 0;
    const buf = this.rcvBuf;
    while (count < buf.length && buf[count].sn === this.rcvNxt && this.rcvQueue.length < this.rcvWnd) {
      this.rcvQueue.push(buf[count]);
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      count++;
    }
    if (count > 0) buf.splice(0, count);
  }

  /**
   * Queues bytes to send (copied). In stream mode they top up the last queued segment, which
   * was given a whole MSS of room for that.
   */
  send(data: Uint8Array): void {
    let off = 0;
    if (data.length === 0) return;
    const mss = this.mss;
    if (this.stream) {
      const last = this.sndQueue.last();
      if (last && last.data.length < mss) {
        const len = last.data.length;
        const extend = Math.min(mss - len, data.length);
        let room = last.room;
        if (!room || room.length < len + extend) {
          room = this.#room();
          room.set(last.data);
          last.room = room;
        }
        room.set(data.subarray(0, extend), len);
        last.data = room.subarray(0, len + extend);
        off = extend;
      }
      if (off === data.length) return;
    }
    const left = data.length - off;
    const count = Math.max(1, Math.ceil(left / mss));
    if (!this.stream && count > 255) throw new Error("message too large for KCP message mode");
    for (let i = 0; i < count; i++) {
      const size = Math.min(mss, data.length - off);
      const piece = data.subarray(off, off + size);
      let seg: Segment;
      if (this.stream) {
        const room = this.#room();
        room.set(piece);
        seg = segment(room.subarray(0, size), 0, 0, 0, room);
      } else seg = segment(this.slab.copy(piece), 0, count - i - 1);
      this.sndQueue.push(seg);
      off += size;
    }
  }

  /** Space for one outgoing segment: a spare room, else fresh space. */
  #room(): Uint8Array {
    return this.#spare.pop() ?? this.slab.take(this.mss);
  }

  #updateAck(rtt: number): void {
    if (this.rxSrtt === 0) {
      this.rxSrtt = rtt;
      this.rxRttvar = rtt >> 1;
    } else {
      let delta = rtt - this.rxSrtt;
      this.rxSrtt += delta >> 3;
      if (delta < 0) delta = -delta;
      if (rtt < this.rxSrtt - this.rxRttvar) this.rxRttvar += (delta - this.rxRttvar) >> 5;
      else this.rxRttvar += (delta - this.rxRttvar) >> 2;
    }
    const rto = this.rxSrtt + Math.max(this.interval, this.rxRttvar << 2);
    this.rxRto = Math.min(RTO_MAX, Math.max(this.rxMinrto, rto));
  }

  #shrinkBuf(): void {
    this.sndUna = this.sndBuf.length > 0 ? this.sndBuf[0].sn : this.sndNxt;
  }

  #parseAck(sn: number): void {
    if (diff(sn, this.sndUna) < 0 || diff(sn, this.sndNxt) >= 0) return;
    for (const seg of this.sndBuf) {
      if (seg.sn === sn) {
        if (!seg.acked) this.delivered++;
        seg.acked = true;
        break;
      }
      if (diff(sn, seg.sn) < 0) break;
    }
  }

  #parseFastack(sn: number, ts: number): void {
    if (diff(sn, this.sndUna) < 0 || diff(sn, this.sndNxt) >= 0) return;
    for (const seg of this.sndBuf) {
      if (diff(sn, seg.sn) < 0) break;
      if (sn !== seg.sn && diff(seg.ts, ts) <= 0) seg.fastack++;
    }
  }

  #parseUna(una: number): number {
    let count = 0;
    const buf = this.sndBuf;
    const spare = this.#spare, mss = this.mss, keep = this.sndWnd * SPARE_ROOMS_PER_WINDOW_SEGMENT;
    while (count < buf.length && diff(una, buf[count].sn) > 0) {
      const seg = buf[count];
      if (!seg.acked) this.delivered++;
      // Nothing reads an acknowledged segment again: its room goes to the next one sent.
      if (seg.room && seg.room.length === mss && spare.length < keep) spare.push(seg.room);
      seg.room = null;
      count++;
    }
    if (count > 0) buf.splice(0, count);
    return count;
  }

  #parseData(seg: Segment): boolean {
    const sn = seg.sn;
    if (diff(sn, this.rcvNxt + this.rcvWnd) >= 0 || diff(sn, this.rcvNxt) < 0) return true;
    const buf = this.rcvBuf;
    let i = buf.length - 1;
    let repeat = false;
    for (; i >= 0; i--) {
      if (buf[i].sn === sn) {
        repeat = true;
        break;
      }
      if (diff(sn, buf[i].sn) > 0) break;
    }
    if (!repeat) {
      if (i === buf.length - 1) buf.push(seg);
      else buf.splice(i + 1, 0, seg);
    }
    this.#moveReady();
    return repeat;
  }

  /**
   * Processes one datagram's KCP segments. `regular` is false for packets rebuilt by FEC
   * (they do not update RTT or the remote window). Returns 0, or a negative number when
   * the packet is malformed or belongs to another conversation. Received segments are copied
   * out: `data` stays the caller's to reuse.
   */
  input(data: Uint8Array, regular = true, ackNoDelay = false): number {
    const oldUna = this.sndUna;
    if (data.length < OVERHEAD) return -1;
    let latest = 0, gotAck = false, windowSlides = false;
    let p = 0;
    const n = data.length;
    while (n - p >= OVERHEAD) {
      const conv = (data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24)) >>> 0;
      if (conv !== this.conv) return -1;
      const cmd = data[p + 4];
      const frg = data[p + 5];
      const wnd = data[p + 6] | (data[p + 7] << 8);
      const ts = (data[p + 8] | (data[p + 9] << 8) | (data[p + 10] << 16) | (data[p + 11] << 24)) >>> 0;
      const sn = (data[p + 12] | (data[p + 13] << 8) | (data[p + 14] << 16) | (data[p + 15] << 24)) >>> 0;
      const una = (data[p + 16] | (data[p + 17] << 8) | (data[p + 18] << 16) | (data[p + 19] << 24)) >>> 0;
      const len = (data[p + 20] | (data[p + 21] << 8) | (data[p + 22] << 16) | (data[p + 23] << 24)) >>> 0;
      p += OVERHEAD;
      if (n - p < len) return -2;
      if (cmd !== CMD_PUSH && cmd !== CMD_ACK && cmd !== CMD_WASK && cmd !== CMD_WINS) return -3;
      if (regular) this.rmtWnd = wnd;
      if (this.#parseUna(una) > 0) windowSlides = true;
      this.#shrinkBuf();
      if (cmd === CMD_ACK) {
        this.#parseAck(sn);
        this.#parseFastack(sn, ts);
        gotAck = true;
        latest = ts;
      } else if (cmd === CMD_PUSH) {
        let repeat = true;
        if (diff(sn, this.rcvNxt + this.rcvWnd) < 0) {
          this.acklist.push(sn, ts);
          if (diff(sn, this.rcvNxt) >= 0) {
            const seg = this.#received(data.subarray(p, p + len), sn, frg, ts);
            repeat = this.#parseData(seg);
            if (repeat) this.#recycleReceived(seg);
          }
        }
        if (regular && repeat) this.stats.repeatSegs++;
      } else if (cmd === CMD_WASK) {
        this.probe |= ASK_TELL;
      }
      this.stats.inSegs++;
      p += len;
    }
    if (gotAck && regular) {
      const now = currentMs();
      if (diff(now, latest) >= 0) this.#updateAck(diff(now, latest));
    }
    if (!this.nocwnd && diff(this.sndUna, oldUna) > 0 && this.cwnd < this.rmtWnd) {
      const mss = this.mss;
      if (this.cwnd < this.ssthresh) {
        this.cwnd++;
        this.incr += mss;
      } else {
        if (this.incr < mss) this.incr = mss;
        this.incr += Math.floor((mss * mss) / this.incr) + Math.floor(mss / 16);
        if ((this.cwnd + 1) * mss <= this.incr) this.cwnd = Math.floor((this.incr + mss - 1) / mss);
      }
      if (this.cwnd > this.rmtWnd) {
        this.cwnd = this.rmtWnd;
        this.incr = this.rmtWnd * mss;
      }
    }
    if (windowSlides) this.flush(false);
    else if (ackNoDelay && this.acklist.length > 0) this.flush(true);
    // Early acks keep a fast sender's window moving, holes or not: a batch of 48 acks spans
    // several FEC groups, so a sparse loss has had its chance to be rebuilt, and holding acks
    // until the tick when a burst overflowed the peer's socket buffer idled the link for a
    // whole interval (measured over loopback: 135 -> 185 Mbit/s, and less CPU per megabyte).
    else if (this.acklist.length >= 2 * ACK_BATCH) this.flush(true);
    return 0;
  }

  #wndUnused(): number {
    return this.rcvQueue.length < this.rcvWnd ? this.rcvWnd - this.rcvQueue.length : 0;
  }

  /** Where the datagram being built in {@link flush} ends. */
  #pos = 0;
  /** Datagrams {@link flush} has emitted so far. */
  #emitted = 0;
  /** The window and una every header of this flush carries. */
  #hdrWnd = 0;
  #hdrUna = 0;

  // Methods rather than closures inside flush: flush runs for nearly every datagram in and out,
  // and two closures and their context per call were most of what a sending session allocated.

  /** Hands the datagram built so far (if any) to `output` and starts the next one. */
  #emit(): void {
    const pos = this.#pos;
    if (pos > this.reserved) {
      const dgram = this.#buffer.subarray(0, pos);
      this.output(this.lendOutput ? dgram : this.slab.copy(dgram));
      this.#emitted++;
    }
    this.#pos = this.reserved;
  }

  /** Writes a segment header at the end of the datagram being built. */
  #header(cmd: number, frg: number, ts: number, sn: number, len: number): void {
    const buf = this.#buffer, pos = this.#pos, c = this.conv, wnd = this.#hdrWnd, una = this.#hdrUna;
    buf[pos] = c, buf[pos + 1] = c >>> 8, buf[pos + 2] = c >>> 16, buf[pos + 3] = c >>> 24;
    buf[pos + 4] = cmd, buf[pos + 5] = frg, buf[pos + 6] = wnd, buf[pos + 7] = wnd >>> 8;
    buf[pos + 8] = ts, buf[pos + 9] = ts >>> 8, buf[pos + 10] = ts >>> 16, buf[pos + 11] = ts >>> 24;
    buf[pos + 12] = sn, buf[pos + 13] = sn >>> 8, buf[pos + 14] = sn >>> 16, buf[pos + 15] = sn >>> 24;
    buf[pos + 16] = una, buf[pos + 17] = una >>> 8, buf[pos + 18] = una >>> 16, buf[pos + 19] = una >>> 24;
    buf[pos + 20] = len, buf[pos + 21] = len >>> 8, buf[pos + 22] = len >>> 16, buf[pos + 23] = len >>> 24;
    this.#pos = pos + OVERHEAD;
    this.stats.outSegs++;
  }

  /** Sends acks, probes, new and due segments. With `ackOnly`, just the pending acks. */
  flush(ackOnly: boolean): void {
    const buf = this.#buffer;
    this.#hdrWnd = this.#wndUnused();
    this.#hdrUna = this.rcvNxt;
    this.#pos = this.reserved;
    this.#emitted = 0;
    const budget = this.budget;
    const allowed = budget ? budget.allowance() : Infinity;
    let heldBack = false;
    const mtu = this.mtu;

    // Acks below rcv_nxt are covered by una; the last one is always sent (it carries ts for RTT).
    const acks = this.acklist;
    for (let i = 0; i < acks.length; i += 2) {
      if (diff(acks[i], this.rcvNxt) >= 0 || i === acks.length - 2) {
        if (this.#pos + OVERHEAD > mtu) this.#emit();
        this.#header(CMD_ACK, 0, acks[i + 1], acks[i], 0);
      }
    }
    acks.length = 0;
    if (ackOnly) {
      this.#emit();
      budget?.spend(this.#emitted, false);
      return;
    }

    if (this.rmtWnd === 0) {
      const now = currentMs();
      if (this.probeWait === 0) {
        this.probeWait = PROBE_INIT;
        this.tsProbe = now + this.probeWait;
      } else if (diff(now, this.tsProbe) >= 0) {
        if (this.probeWait < PROBE_INIT) this.probeWait = PROBE_INIT;
        this.probeWait = Math.min(PROBE_LIMIT, this.probeWait + (this.probeWait >> 1));
        this.tsProbe = now + this.probeWait;
        this.probe |= ASK_SEND;
      }
    } else {
      this.tsProbe = 0;
      this.probeWait = 0;
    }
    if (this.probe & ASK_SEND) {
      if (this.#pos + OVERHEAD > mtu) this.#emit();
      this.#header(CMD_WASK, 0, 0, 0, 0);
    }
    if (this.probe & ASK_TELL) {
      if (this.#pos + OVERHEAD > mtu) this.#emit();
      this.#header(CMD_WINS, 0, 0, 0, 0);
    }
    this.probe = 0;

    let cwnd = Math.min(this.sndWnd, this.rmtWnd);
    if (!this.nocwnd) cwnd = Math.min(this.cwnd, cwnd);
    let newSegs = 0;
    const q = this.sndQueue;
    // Under a budget, segments that could not be sent now stay queued: a segment in the send
    // buffer counts against the window and runs a timer, and held there it would make the
    // window look full while nothing is on the wire.
    const admit = allowed - this.#emitted - (this.#pos > this.reserved ? 1 : 0);
    while (newSegs < q.length && newSegs < admit && diff(this.sndNxt, this.sndUna + cwnd) < 0) {
      const seg = q.at(newSegs);
      seg.sn = this.sndNxt;
      this.sndBuf.push(seg);
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      newSegs++;
    }
    if (newSegs > 0) q.dropFront(newSegs);
    // Queued data the window would take but the budget did not: come back when it refills.
    if (newSegs < q.length && newSegs >= admit && diff(this.sndNxt, this.sndUna + cwnd) < 0) heldBack = true;

    const resent = this.fastresend > 0 ? this.fastresend : 0xffffffff;
    let current = currentMs();
    let change = 0, lost = 0;
    for (const seg of this.sndBuf) {
      if (seg.acked) continue;
      const opensDatagram = this.#pos === this.reserved || this.#pos + OVERHEAD + seg.data.length > mtu;
      if (opensDatagram && this.#emitted + (this.#pos > this.reserved ? 1 : 0) >= allowed) {
        // Out of budget: what is left keeps its state and goes at the next flush.
        heldBack = true;
        break;
      }
      let needsend = false;
      if (seg.xmit === 0) {
        needsend = true;
        seg.rto = this.rxRto;
        seg.resendts = current + seg.rto;
      } else if (seg.fastack >= resent) {
        needsend = true;
        seg.fastack = 0;
        seg.rto = this.rxRto;
        seg.resendts = current + seg.rto;
        change++;
        this.stats.fastRetransSegs++;
      } else if (seg.fastack > 0 && newSegs === 0) {
        needsend = true;
        seg.fastack = 0;
        seg.rto = this.rxRto;
        seg.resendts = current + seg.rto;
        change++;
      } else if (diff(current, seg.resendts) >= 0) {
        needsend = true;
        seg.rto += this.nodelay === 0 ? this.rxRto : this.rxRto >> 1;
        seg.fastack = 0;
        seg.resendts = current + seg.rto;
        lost++;
      }
      if (needsend) {
        if (seg.xmit > 0) this.stats.retransSegs++;
        current = currentMs();
        seg.xmit++;
        seg.ts = current;
        if (this.#pos + OVERHEAD + seg.data.length > mtu) this.#emit();
        this.#header(CMD_PUSH, seg.frg, current, seg.sn, seg.data.length);
        buf.set(seg.data, this.#pos);
        this.#pos += seg.data.length;
        if (seg.xmit >= this.deadLink) this.dead = true;
      }
    }
    this.#emit();
    budget?.spend(this.#emitted, heldBack);
    this.stats.lostSegs += lost;

    if (!this.nocwnd) {
      if (change > 0) {
        const inflight = (this.sndNxt - this.sndUna) >>> 0;
        this.ssthresh = Math.max(THRESH_MIN, inflight >>> 1);
        this.cwnd = this.ssthresh + resent;
        this.incr = this.cwnd * this.mss;
      }
      if (lost > 0) {
        this.ssthresh = Math.max(THRESH_MIN, cwnd >>> 1);
        this.cwnd = 1;
        this.incr = this.mss;
      }
      if (this.cwnd < 1) {
        this.cwnd = 1;
        this.incr = this.mss;
      }
    }
  }

  /** Flushes when the next flush time has come; call every `interval` ms (or sooner). */
  update(): void {
    const current = currentMs();
    if (!this.updated) {
      this.updated = true;
      this.tsFlush = current;
    }
    let slap = diff(current, this.tsFlush);
    if (slap >= 10000 || slap < -10000) {
      this.tsFlush = current;
      slap = 0;
    }
    if (slap >= 0) {
      // Nothing in flight: the spare rooms go back to the garbage collector (an idle session
      // holds none).
      if (this.sndBuf.length === 0 && this.sndQueue.length === 0) this.#spare.length = 0;
      if (this.rcvBuf.length === 0 && this.rcvQueue.length === 0) this.#rcvSpare.length = 0;
      this.tsFlush = (this.tsFlush + this.interval) >>> 0;
      if (diff(current, this.tsFlush) >= 0) this.tsFlush = (current + this.interval) >>> 0;
      this.flush(false);
    }
  }

  /** Drops every queued segment (the session is closing). */
  release(): void {
    this.sndQueue.clear();
    this.rcvQueue.clear();
    this.sndBuf = [];
    this.rcvBuf = [];
    this.acklist = [];
    this.#spare = [];
    this.#rcvSpare = [];
  }
}
