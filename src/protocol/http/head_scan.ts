/**
 * Early rejection of a request head that cannot become valid. A server waiting for the
 * blank line would hold a client sending anything but HTTP (TLS to a plain port, another
 * protocol, noise) for the whole `readTimeout`; Go's server answers 400 at the first line
 * that is neither a request line nor a header, and this does the same, also for the line
 * still arriving (a control byte, a method or header name with a non-token byte).
 * @module
 */
import { HttpError, parseHeaderLine, parseRequestLine } from "./http.ts";

const CR = 13, LF = 10, SP = 32, HT = 9, COLON = 58;

/** RFC 9110 token characters, by byte. */
const TOKEN_BYTE = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_BYTE[c.charCodeAt(0)] = 1;
}

const decoder = new TextDecoder("latin1");

/**
 * Checks a request head as its bytes arrive: {@link scan} takes the bytes received so far
 * (the same start each time, growing) and throws {@link HttpError} as soon as they cannot
 * begin a valid head. Each byte is looked at once.
 */
export class RequestHeadScanner {
  #pos = 0;
  #lineStart = 0;
  #line = 0;
  /** Spaces seen in the request line, or the header name's end (-1 before the colon). */
  #spaces = 0;
  #colon = -1;

  /** Throws {@link HttpError} when `soFar` cannot start a valid request head. */
  scan(soFar: Uint8Array): void {
    for (let i = this.#pos; i < soFar.length; i++) {
      const b = soFar[i];
      if (b === LF) {
        if (i === this.#lineStart || soFar[i - 1] !== CR) throw new HttpError("bare LF in the request head");
        this.#endLine(decoder.decode(soFar.subarray(this.#lineStart, i - 1)));
        this.#lineStart = i + 1;
        continue;
      }
      if (i > 0 && soFar[i - 1] === CR) throw new HttpError("bare CR in the request head");
      if (b === CR) continue;
      if ((b < SP && b !== HT) || b === 127) {
        throw new HttpError(`control byte 0x${b.toString(16).padStart(2, "0")} in the request head`);
      }
      this.#byte(b, i - this.#lineStart);
    }
    this.#pos = soFar.length;
  }

  /** One byte of the line under way, at offset `at` within it. */
  #byte(b: number, at: number): void {
    if (this.#line === 0) {
      if (b === SP) {
        if (++this.#spaces > 2 || at === 0) throw new HttpError("malformed request line");
      } else if (this.#spaces === 0 && !(b < 128 && TOKEN_BYTE[b])) {
        throw new HttpError("bad method");
      }
      return;
    }
    if (this.#colon >= 0) return; // a header value: any byte but controls
    if (b === COLON) {
      if (at === 0) throw new HttpError("malformed header line");
      this.#colon = at;
    } else if (!(b < 128 && TOKEN_BYTE[b])) {
      throw new HttpError(
        at === 0 && (b === SP || b === HT) ? "obsolete header line folding" : "bad header name",
      );
    }
  }

  #endLine(line: string): void {
    if (this.#line === 0) parseRequestLine(line);
    else if (line !== "") parseHeaderLine(line);
    this.#line++;
    this.#spaces = 0;
    this.#colon = -1;
  }
}
