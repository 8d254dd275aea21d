/**
 * The `http2` listener: HTTP/2 over TLS (ALPN h2), every request stream one accepted connection,
 * unanswered: the `http2` handler reads its request and answers it (gost's http2 listener has
 * no cleartext form).
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions } from "../core/options.ts";
import { Http2Session } from "../protocol/http2/session.ts";
import { SERVER_CONNECTION_WINDOW, SERVER_SETTINGS } from "../protocol/http2/tunnel.ts";
import { MuxListener } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { createTlsListener, tlsListenerOptions } from "./tls.ts";

export const http2ListenerOptions = defineOptions(tlsListenerOptions.schema);

export const http2Listener: ListenerFactory = {
  options: http2ListenerOptions,
  create: (init, opts) =>
    new MuxListener(
      createTlsListener(init, { ...opts, alpn: ["h2"] }),
      (conn) => {
        const session = new Http2Session(conn, {
          client: false,
          settings: SERVER_SETTINGS,
          connectionWindowIncrement: SERVER_CONNECTION_WINDOW,
          maxConcurrentStreams: 250,
          log: init.log,
        });
        return {
          accept: (): Promise<Duplex | null> => session.accept(),
          done: session.done,
          close: () => session.close(),
        };
      },
      opts.backlog,
      init.log,
    ),
};
