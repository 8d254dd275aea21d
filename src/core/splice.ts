/**
 * Socket-to-socket copies inside the kernel: Linux `splice(2)` from one TCP socket into a pipe and
 * from the pipe into the other, the bytes never crossing into JavaScript. gost does the same (Go's
 * `TCPConn.ReadFrom` splices on Linux). Measured through one relaying process (iperf3 on loopback,
 * 2 cores): four streams 9.2–10.9 → 11.8–14.6 Gbit/s, CPU per GB 706–853 → 340–449 ms; one stream
 * at the same rate with ~30% less CPU per GB.
 *
 * Only where everything it needs is there, else callers keep their read loop: Linux, the C library
 * through the FFI grant (core/ffi.ts), and Deno 2.9's Node TCP binding, whose `openFromRid` and
 * `fdForIpc` give a duplicate of a `Deno.TcpConn`'s descriptor (Deno has no API for the
 * descriptor itself). Each copy owns its duplicates and pipe and closes them when it ends, so a
 * descriptor number it splices on can never have been reused by another connection. Closing
 * the `Deno.Conn` shuts the socket down, so a copy whose connection is closed from elsewhere
 * ends with it.
 *
 * Readiness comes from one epoll set per thread, waited on by a single non-blocking FFI call
 * (one blocking-pool thread), and only while copies are running.
 * @module
 */
import { fileLimit, GETRLIMIT, NATIVE_LIBRARIES, openLibrary } from "./ffi.ts";
import { loadTcpWrap, openTcpWrap, tcpWrapClass } from "./tcp_wrap.ts";

const SYMBOLS = {
  splice: { parameters: ["i32", "pointer", "i32", "pointer", "usize", "u32"], result: "isize" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  // errno, copied out with memcpy: reading a pointer's memory directly needs blanket FFI.
  __errno_location: { parameters: [], result: "pointer" },
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
  // Wakes the wait when the last copy ends, so that no wait outlives the copies.
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  getrlimit: GETRLIMIT,
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const EINTR = 4;
const EAGAIN = 11;
const SPLICE_F_MOVE = 1;
const SPLICE_F_NONBLOCK = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLRDHUP = 0x2000, EPOLLET = 0x80000000;
/** `struct epoll_event` is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;
const MAX_EVENTS = 64;
/** How long one wait lasts before the loop looks again (it stops once no copy runs). */
const WAIT_MS = 1000;
/** Bytes asked of one splice from a socket (the pipe takes what fits). */
const CHUNK = 1n << 20n;
/** Copies one thread runs at most (each holds four descriptors); beyond that, read loops. */
export const MAX_SPLICES = 128;

/**
 * The copies this process may run at once: {@link MAX_SPLICES}, fewer where the descriptor limit
 * is low, so that each thread's copies hold at most an eighth of it (32 copies under the usual 1024).
 */
function spliceBudget(c: Libc): number {
  return Math.min(MAX_SPLICES, Math.floor((fileLimit(c) ?? 0) / 32));
}

/** A copy in flight: `stop()` ends it at once (its promise then resolves). */
export interface SpliceHandle {
  readonly done: Promise<void>;
  stop(): void;
}

let libc: Libc | null | undefined;

/** libc, or null: not Linux, no grant, no TCP binding, or the binding not loaded yet ({@link canSplice}). */
function open(): Libc | null {
  if (libc !== undefined) return libc;
  const wrap = tcpWrapClass();
  if (wrap === undefined && Deno.build.os === "linux") return null; // not loaded: asked again later
  libc = null;
  if (Deno.build.os !== "linux" || typeof wrap?.prototype.fdForIpc !== "function") return null;
  libc = openLibrary(NATIVE_LIBRARIES.libc, SYMBOLS)?.lib.symbols ?? null;
  return libc;
}

/**
 * True when this process can splice (Linux, the libc grant, Deno's TCP binding). The first call
 * loads the binding (core/tcp_wrap.ts), so a process that never relays between two TCP sockets
 * never loads it.
 */
export async function canSplice(): Promise<boolean> {
  if (libc === undefined && Deno.build.os === "linux") await loadTcpWrap();
  return open() !== null;
}

/** Where errno is copied to: allocated once, so nothing runs between a failed call and reading it. */
const errnoOut = new Int32Array(1);
const errnoBytes = new Uint8Array(errnoOut.buffer);

/** errno of the last call made on this thread (a synchronous FFI call runs on it). */
function errno(c: Libc): number {
  c.memcpy(errnoBytes, c.__errno_location(), 4n);
  return errnoOut[0];
}

/** A duplicate of `conn`'s descriptor, owned by the caller; -1 when there is none (not TCP, closed). */
function duplicateFd(conn: Deno.Conn): number {
  const wrap = openTcpWrap(conn);
  if (!wrap?.fdForIpc) return -1;
  try {
    return wrap.fdForIpc(); // a fresh duplicate of its own
  } catch {
    return -1;
  } finally {
    wrap.close(); // the wrap's duplicate
  }
}

function errnoError(e: number): Error {
  const names: Record<number, string> = {
    32: "broken pipe",
    104: "connection reset by peer",
    110: "timed out",
  };
  return new Error(`splice: ${names[e] ?? `errno ${e}`}`);
}

/** One direction: `src` → pipe → `dst`, all four descriptors its own. */
class Copy implements SpliceHandle {
  readonly #done = Promise.withResolvers<void>();
  readonly done = this.#done.promise;
  #inPipe = 0;
  #eof = false;
  #ended = false;

  constructor(
    readonly loop: EpollLoop,
    readonly src: number,
    readonly dst: number,
    readonly pipeRead: number,
    readonly pipeWrite: number,
    readonly count: (n: number) => void,
  ) {}

  /** Moves bytes until the kernel says wait (EAGAIN), the end, or an error; never throws. */
  pump(): void {
    try {
      this.#pump();
    } catch (err) {
      this.#end(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #pump(): void {
    const c = this.loop.libc;
    while (!this.#ended) {
      if (this.#inPipe > 0) {
        const n = Number(
          c.splice(
            this.pipeRead,
            null,
            this.dst,
            null,
            BigInt(this.#inPipe),
            SPLICE_F_MOVE | SPLICE_F_NONBLOCK,
          ),
        );
        if (n < 0) {
          if (this.#retry(errno(c))) continue;
          return;
        }
        this.#inPipe -= n;
        this.count(n);
        continue;
      }
      if (this.#eof) return this.#end();
      const n = Number(
        c.splice(this.src, null, this.pipeWrite, null, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK),
      );
      if (n === 0) this.#eof = true;
      else if (n > 0) this.#inPipe = n;
      else if (!this.#retry(errno(c))) return;
    }
  }

  /** After a failed splice: true to try again at once (EINTR); else waits (EAGAIN) or ends the copy. */
  #retry(e: number): boolean {
    if (e === EINTR) return true;
    if (e !== EAGAIN) this.#end(errnoError(e));
    return false;
  }

  /** Ends the copy with `err` (the wait itself failed). */
  fail(err: Error): void {
    this.#end(err);
  }

  stop(): void {
    this.#end();
  }

  #end(err?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.loop.remove(this);
    if (err) this.#done.reject(err);
    else this.#done.resolve();
  }
}

/** Copies started (for tests and diagnostics). */
export const spliceCounts = { started: 0 };

/** The thread's epoll set and the one wait on it. */
class EpollLoop {
  readonly #byFd = new Map<number, Copy>();
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventView = new DataView(this.#events.buffer);
  /** The eventfd's 8-byte counter: 1 to wake the wait, read back to reset it. */
  readonly #counter = new Uint8Array(new BigUint64Array([1n]).buffer);
  readonly #drained = new Uint8Array(8);
  #waiting = false;
  #idle: (() => void)[] = [];

  /** Copies this thread may run at once ({@link spliceBudget}). */
  readonly budget: number;

  constructor(readonly libc: Libc, readonly epfd: number, readonly wakeFd: number) {
    this.#register(wakeFd, EPOLLIN);
    this.budget = spliceBudget(libc);
  }

  #register(fd: number, events: number): boolean {
    const ev = new Uint8Array(EVENT_SIZE);
    const view = new DataView(ev.buffer);
    view.setUint32(0, events >>> 0, true);
    view.setInt32(DATA_OFFSET, fd, true);
    return this.libc.epoll_ctl(this.epfd, EPOLL_CTL_ADD, fd, ev) === 0;
  }

  /** Resolves once no wait is pending (tests: no FFI call outlives them). */
  idle(): Promise<void> {
    if (!this.#waiting) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  get size(): number {
    return this.#byFd.size / 2;
  }

  add(copy: Copy): boolean {
    for (const fd of [copy.src, copy.dst]) {
      if (!this.#register(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)) {
        if (fd === copy.dst) {
          this.libc.epoll_ctl(this.epfd, EPOLL_CTL_DEL, copy.src, new Uint8Array(EVENT_SIZE));
        }
        return false;
      }
    }
    this.#byFd.set(copy.src, copy);
    this.#byFd.set(copy.dst, copy);
    if (!this.#waiting) {
      this.#wait().catch((err) => {
        // The wait itself failed (it should not): end every copy rather than leave them stalled.
        const e = err instanceof Error ? err : new Error(String(err));
        for (const c of new Set(this.#byFd.values())) c.fail(e);
      });
    }
    return true;
  }

  /** Takes `copy` out of the set and closes its descriptors (on the thread that splices, so never mid-splice). */
  remove(copy: Copy): void {
    const c = this.libc;
    const ev = new Uint8Array(EVENT_SIZE);
    for (const fd of [copy.src, copy.dst]) {
      if (this.#byFd.get(fd) !== copy) continue;
      this.#byFd.delete(fd);
      c.epoll_ctl(this.epfd, EPOLL_CTL_DEL, fd, ev);
    }
    for (const fd of [copy.src, copy.dst, copy.pipeRead, copy.pipeWrite]) c.close(fd);
    if (this.#byFd.size === 0 && this.#waiting) {
      c.write(this.wakeFd, this.#counter, 8n);
    }
  }

  async #wait(): Promise<void> {
    this.#waiting = true;
    try {
      let failures = 0;
      while (this.#byFd.size > 0) {
        const n = await this.libc.epoll_wait(this.epfd, this.#events, MAX_EVENTS, WAIT_MS);
        const view = this.#eventView;
        // The wait ran on another thread, whose errno this one cannot read: a signal (EINTR) fails
        // it now and then, anything else would fail it every time.
        failures = n < 0 ? failures + 1 : 0;
        if (failures > 100) throw new Error("splice: epoll_wait keeps failing");
        if (n <= 0) {
          // Nothing reported (or EINTR): look at every copy once, in case an edge was missed.
          for (const copy of new Set(this.#byFd.values())) copy.pump();
          continue;
        }
        for (let i = 0; i < n; i++) {
          const fd = view.getInt32(i * EVENT_SIZE + DATA_OFFSET, true);
          if (fd === this.wakeFd) this.libc.read(fd, this.#drained, 8n);
          else this.#byFd.get(fd)?.pump();
        }
      }
    } finally {
      this.#waiting = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }
}

let loop: EpollLoop | null | undefined;

function epollLoop(): EpollLoop | null {
  if (loop !== undefined) return loop;
  const c = open();
  const epfd = c ? c.epoll_create1(O_CLOEXEC) : -1;
  const wakeFd = c && epfd >= 0 ? c.eventfd(0, O_NONBLOCK | O_CLOEXEC) : -1;
  loop = c && wakeFd >= 0 ? new EpollLoop(c, epfd, wakeFd) : null;
  return loop;
}

/** Resolves once this thread has no wait pending (tests await it before they end). */
export function spliceIdle(): Promise<void> {
  return loop ? loop.idle() : Promise.resolve();
}

/**
 * Starts copying `from` → `to` in the kernel until `from`'s end of stream (the caller then
 * half-closes `to`), counting bytes as they reach `to`; null when it cannot here (then nothing
 * was touched and the caller's read loop goes on). The promise rejects on a socket error.
 */
export function spliceCopy(from: Deno.Conn, to: Deno.Conn, count: (n: number) => void): SpliceHandle | null {
  const l = epollLoop();
  if (!l || l.size >= l.budget) return null;
  const c = l.libc;
  const src = duplicateFd(from);
  const dst = src >= 0 ? duplicateFd(to) : -1;
  const pipe = new Int32Array(2);
  if (dst < 0 || c.pipe2(new Uint8Array(pipe.buffer), O_NONBLOCK | O_CLOEXEC) !== 0) {
    for (const fd of [src, dst]) if (fd >= 0) c.close(fd);
    return null;
  }
  const copy = new Copy(l, src, dst, pipe[0], pipe[1], count);
  if (!l.add(copy)) {
    for (const fd of [src, dst, pipe[0], pipe[1]]) c.close(fd);
    return null;
  }
  spliceCounts.started++;
  copy.pump();
  return copy;
}
