/**
 * A byte stream carried in WebSocket binary messages, over any {@link DirectIO}.
 *
 * Reads unmask payloads in place in the caller's buffer and squeeze frame headers out, so a
 * read costs one underlying read and no copy; each write becomes one final binary frame
 * (longer writes are split at {@link MAX_FRAME_PAYLOAD}) assembled in a reused buffer, so it
 * costs one underlying write. Pings are answered, pongs ignored. Half-close is carried as a
 * Close frame: after receiving one, reads end while writing goes on until this side closes
 * too (between two gost-deno nodes this keeps TCP half-close semantics end to end).
 *
 * A Close frame is not the end of the bytes: the stream underneath may still carry the peer's
 * own end of stream (a TLS close_notify follows the Close frame). Closing a socket while such
 * bytes wait unread makes the kernel reset the connection and drop what it has not sent yet,
 * so the peer silently loses the tail of our data. After a completed Close handshake, closing
 * therefore first reads the stream underneath to its end (bounded: {@link LINGER_MS},
 * {@link LINGER_BYTES}).
 * @module
 */
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import {
  headerLength,
  maskInto,
  MAX_CONTROL_PAYLOAD,
  MAX_HEADER,
  Opcode,
  parseFrameHeader,
  WebSocketProtocolError,
  writeFrameHeader,
} from "./frame.ts";

/** Writes longer than this are sent as several frames. */
export const MAX_FRAME_PAYLOAD = 256 * 1024;

/** How long closing waits for the peer's end of stream after the Close handshake. */
export const LINGER_MS = 2000;
/** How many trailing bytes closing reads and discards before it gives up waiting. */
export const LINGER_BYTES = 64 * 1024;

/** Options of a {@link WebSocketIO}. */
export interface WebSocketIOOptions {
  /** Client side: masks what it sends and expects unmasked frames (and the reverse for servers). */
  client: boolean;
  /** Sends a ping this often (ms); 0 or absent: never. */
  pingInterval?: number;
}

const CLOSE_NORMAL = Uint8Array.of(0x03, 0xe8); // status 1000

/** WebSocket framing as direct I/O. */
export class WebSocketIO implements DirectIO {
  readonly #io: DirectIO;
  readonly #client: boolean;
  // Read state: a frame header being collected, then the payload bytes still due.
  readonly #hdr = new Uint8Array(MAX_HEADER);
  #hdrLen = 0;
  #inFrame = false;
  #remaining = 0;
  #opcode = 0;
  #mask: Uint8Array | null = null;
  #phase = 0;
  readonly #ctrl = new Uint8Array(MAX_CONTROL_PAYLOAD);
  #ctrlLen = 0;
  #readDone = false;
  #closeReceived = false;
  // Write state: frames are assembled in #out, one writer at a time.
  #out = new Uint8Array(0);
  #queue: Promise<void> = Promise.resolve();
  #closeSent = false;
  #underClosed = false;
  #timer?: ReturnType<typeof setInterval>;

  constructor(io: DirectIO, opts: WebSocketIOOptions) {
    this.#io = io;
    this.#client = opts.client;
    if (opts.pingInterval && opts.pingInterval > 0) {
      const timer = setInterval(() => {
        this.#control(Opcode.PING, new Uint8Array(0)).catch(() => this.stop());
      }, opts.pingInterval);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** True once the peer sent a Close frame or the stream ended. */
  get readDone(): boolean {
    return this.#readDone;
  }

  /** True once Close frames went both ways (and our half-close reached the stream beneath). */
  get closedCleanly(): boolean {
    return this.#closeReceived && this.#closeSent && this.#underClosed;
  }

  async read(buf: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#readDone) return null;
      const n = await this.#io.read(buf);
      if (n === null) {
        this.#readDone = true;
        if (this.#inFrame || this.#hdrLen > 0) {
          throw new WebSocketProtocolError("connection closed inside a frame");
        }
        return null;
      }
      const out = this.#consume(buf, n);
      if (out > 0) return out;
    }
  }

  /** Parses `buf[0..n)` in place; returns how many payload bytes now sit at its start. */
  #consume(buf: Uint8Array, n: number): number {
    let out = 0;
    let i = 0;
    while (i < n && !this.#readDone) {
      if (!this.#inFrame) {
        let need = this.#hdrLen < 2 ? 2 : headerLength(this.#hdr[1]);
        while (this.#hdrLen < need && i < n) {
          this.#hdr[this.#hdrLen++] = buf[i++];
          if (this.#hdrLen === 2) need = headerLength(this.#hdr[1]);
        }
        if (this.#hdrLen < need) break;
        const h = parseFrameHeader(this.#hdr.subarray(0, need))!;
        this.#hdrLen = 0;
        if (this.#client && h.mask) throw new WebSocketProtocolError("the server sent a masked frame");
        if (!this.#client && !h.mask) throw new WebSocketProtocolError("the client sent an unmasked frame");
        this.#opcode = h.opcode;
        this.#mask = h.mask;
        this.#phase = 0;
        this.#remaining = h.length;
        this.#ctrlLen = 0;
        this.#inFrame = true;
        if (h.length === 0) this.#endFrame();
        continue;
      }
      const k = Math.min(this.#remaining, n - i);
      const part = buf.subarray(i, i + k);
      if (this.#mask) maskInto(part, part, this.#mask, this.#phase);
      if (this.#opcode >= Opcode.CLOSE) {
        this.#ctrl.set(part, this.#ctrlLen);
        this.#ctrlLen += k;
      } else {
        if (out !== i) buf.copyWithin(out, i, i + k);
        out += k;
      }
      this.#phase += k;
      this.#remaining -= k;
      i += k;
      if (this.#remaining === 0) this.#endFrame();
    }
    return out;
  }

  #endFrame(): void {
    this.#inFrame = false;
    switch (this.#opcode) {
      case Opcode.PING:
        this.#control(Opcode.PONG, this.#ctrl.slice(0, this.#ctrlLen)).catch(() => {});
        break;
      case Opcode.CLOSE:
        this.#readDone = true;
        this.#closeReceived = true;
        break;
    }
  }

  write(data: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      if (this.#closeSent) throw new Error("websocket: write after close");
      for (let off = 0; off < data.length; off += MAX_FRAME_PAYLOAD) {
        await this.#frame(Opcode.BINARY, data.subarray(off, off + MAX_FRAME_PAYLOAD));
      }
    });
  }

  /** Sends a Close frame (status 1000), then half-closes the stream underneath. */
  closeWrite(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closeSent) return;
      this.#closeSent = true;
      try {
        await this.#frame(Opcode.CLOSE, CLOSE_NORMAL);
        await this.#io.closeWrite();
        this.#underClosed = true;
      } catch {
        // the peer is gone: nothing left to tell it
      }
    });
  }

  /** Stops the ping timer (the owner closes the stream underneath). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #control(opcode: number, payload: Uint8Array): Promise<void> {
    return this.#serial(() => this.#closeSent ? Promise.resolve() : this.#frame(opcode, payload));
  }

  /** Runs `fn` after every earlier write: frames never interleave and #out is not shared. */
  #serial(fn: () => Promise<void>): Promise<void> {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  #frame(opcode: number, payload: Uint8Array): Promise<void> {
    const size = MAX_HEADER + payload.length;
    if (this.#out.length < size) this.#out = new Uint8Array(Math.max(size, 1024));
    const mask = this.#client ? crypto.getRandomValues(new Uint8Array(4)) : null;
    const h = writeFrameHeader(this.#out, 0, opcode, payload.length, mask);
    const body = this.#out.subarray(h, h + payload.length);
    if (mask) maskInto(payload, body, mask, 0);
    else body.set(payload);
    return this.#io.write(this.#out.subarray(0, h + payload.length));
  }
}

/**
 * Reads `io` until the peer's end of stream (discarding what comes), at most `LINGER_BYTES`
 * bytes for at most `LINGER_MS`, then runs `close`. Our side has half-closed already, so a
 * well-behaved peer ends promptly.
 */
async function lingerThenClose(io: DirectIO, close: () => void): Promise<void> {
  const timer = setTimeout(close, LINGER_MS);
  Deno.unrefTimer(timer);
  try {
    const buf = new Uint8Array(4096);
    for (let seen = 0; seen <= LINGER_BYTES;) {
      const n = await io.read(buf);
      if (n === null) break;
      seen += n;
    }
  } catch {
    // reset or closed by the timer: the socket is done either way
  } finally {
    clearTimeout(timer);
    close();
  }
}

/**
 * Wraps `under` (already upgraded) as a WebSocket byte stream with direct access. Closing it
 * after a completed Close handshake lets the stream beneath reach its end first (see the
 * module comment); any other close is immediate.
 */
export function webSocketDuplex(under: Duplex, io: DirectIO, opts: WebSocketIOOptions): Duplex {
  const ws = new WebSocketIO(io, opts);
  return new IODuplex(
    ws,
    () => {
      ws.stop();
      if (ws.closedCleanly) lingerThenClose(io, () => under.close());
      else under.close();
    },
    under.local,
    under.remote,
  );
}
