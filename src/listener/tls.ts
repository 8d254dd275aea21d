/**
 * The `tls` listener: TLS on every accepted connection, under the handshake deadline.
 * Certificate from the `tls` block or `certFile`/`keyFile` metadata, else `cert.pem`/`key.pem`
 * in the working directory, else a generated one; `caFile` makes it mutual TLS.
 * @module
 */
import { readTlsFiles, tlsFileOptions } from "../core/tls/config.ts";
import { TlsAcceptor } from "../core/tls/server.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { HandshakeListener, handshakeListenerOptions } from "./_handshake.ts";
import type { ListenerFactory, ListenerInit } from "./registry.ts";

export const tlsListenerOptions = defineOptions({
  ...tlsFileOptions,
  ...handshakeListenerOptions,
  mptcp: opt.ignored("mptcp", "Deno cannot open Multipath TCP sockets; plain TCP is used"),
});

/** Builds a TLS listener; certificate files are read (and checked) here, at config time. */
/**
 * The tls listener; `alpn` lists the protocols it selects from a client's offer (h2 for the
 * HTTP/2 and gRPC channels over TLS).
 */
export function createTlsListener(
  init: ListenerInit,
  opts: Options<typeof tlsListenerOptions["schema"]> & { alpn?: string[] },
): HandshakeListener {
  const material = readTlsFiles(init.tls, opts, init.path);
  let acceptor: TlsAcceptor;
  return new HandshakeListener(
    {
      what: "tls",
      async bind() {
        acceptor = await TlsAcceptor.create(material, opts.alpn);
        return acceptor.listen(init.addr, opts.reusePort, opts.keepAlive);
      },
      upgrade: (conn) => acceptor.secure(conn),
    },
    init.addr,
    opts,
    init.log,
  );
}

export const tlsListener: ListenerFactory = {
  options: tlsListenerOptions,
  create: createTlsListener,
};
