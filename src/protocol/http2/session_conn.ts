/**
 * An HTTP/2 connection handed from the `http2` dialer to the `http2` connector as a duplex (the
 * chain passes duplexes between them): it carries streams, not bytes.
 * @module
 */
import type { Duplex } from "../../core/duplex.ts";
import type { Http2Session } from "./session.ts";

/** The HTTP/2 connection to a node, as the `http2` connector receives it. */
export class Http2SessionConn implements Duplex {
  readonly local: string;
  readonly remote: string;
  constructor(readonly session: Http2Session, carrier: Duplex, readonly owned: boolean) {
    this.local = carrier.local;
    this.remote = carrier.remote;
  }
  get readable(): ReadableStream<Uint8Array> {
    throw new Error("http2: the node connection carries streams, not bytes (use the http2 connector)");
  }
  get writable(): WritableStream<Uint8Array> {
    throw new Error("http2: the node connection carries streams, not bytes (use the http2 connector)");
  }
  /** Ends the connection when this handle alone uses it (inside a chain); a shared one stays. */
  close(): void {
    if (this.owned) this.session.close();
  }
}
