import assert from "node:assert/strict";
import { ChainRouter } from "../../src/chain/router.ts";
import { Logger } from "../../src/core/log.ts";
import { freePort, freeUdpPort } from "../_helpers.ts";
import { chain, startConfig, svc } from "../_runtime.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const opts = { sanitizeOps: false, sanitizeResources: false };
const log = new Logger({ level: "error", format: "json", sink: () => {} });

async function readAll(r: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string> {
  let s = "";
  while (s.length < n) {
    const x = await r.read();
    if (x.done) break;
    s += dec.decode(x.value);
  }
  return s;
}

for (const proto of ["relay", "socks5"]) {
  Deno.test({
    name: `${proto} BIND (bind=true): TCP through a mux session, UDP through framed datagrams`,
    ...opts,
    fn: async () => {
      const sp = freePort();
      const run = await startConfig({
        services: [svc(`127.0.0.1:${sp}`, proto, { metadata: { bind: true } })],
        chains: [chain("c", [[`${proto}://127.0.0.1:${sp}`]])],
      });
      const router = new ChainRouter(run.runtime.chains.get("c"));
      try {
        // TCP: two inbound connections, each a stream of the session.
        const bport = freePort();
        const l = await router.bind("tcp", `127.0.0.1:${bport}`, { log });
        assert.match(l.addr, new RegExp(`:${bport}$`));
        for (const word of ["one", "two"]) {
          const peer = await Deno.connect({ hostname: "127.0.0.1", port: bport });
          const inbound = (await l.accept())!;
          assert.match(inbound.remote, /^127\.0\.0\.1:\d+$/);
          const w = inbound.writable.getWriter();
          const r = inbound.readable.getReader();
          await peer.write(enc.encode(`hello-${word}`));
          assert.equal(await readAll(r, 9), `hello-${word}`);
          await w.write(enc.encode(`reply-${word}`));
          const buf = new Uint8Array(32);
          const n = await peer.read(buf);
          assert.equal(dec.decode(buf.subarray(0, n!)), `reply-${word}`);
          peer.close();
          inbound.close();
        }
        l.close();

        // UDP: a remote peer sends to the bound port; the answer goes back to it.
        const uport = freeUdpPort();
        const ul = await router.bind("udp", `127.0.0.1:${uport}`, { log });
        const u = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
        await u.send(enc.encode("ping"), { transport: "udp", hostname: "127.0.0.1", port: uport });
        const p = (await ul.accept())!;
        assert.equal(p.datagram, true);
        const pr = p.readable.getReader();
        assert.equal(dec.decode((await pr.read()).value!), "ping");
        const pw = p.writable.getWriter();
        await pw.write(enc.encode("pong"));
        const [d] = await u.receive();
        assert.equal(dec.decode(d), "pong");
        u.close();
        ul.close();
      } finally {
        await run.close();
      }
    },
  });
}

Deno.test({
  name: "BIND refused without bind=true (relay Forbidden, socks5 not allowed)",
  ...opts,
  fn: async () => {
    const [rp, sp] = [freePort(), freePort()];
    const run = await startConfig({
      services: [svc(`127.0.0.1:${rp}`, "relay"), svc(`127.0.0.1:${sp}`, "socks5")],
      chains: [chain("r", [[`relay://127.0.0.1:${rp}`]]), chain("s", [[`socks5://127.0.0.1:${sp}`]])],
    });
    try {
      await assert.rejects(
        new ChainRouter(run.runtime.chains.get("r")).bind("tcp", ":0", { log }),
        /Forbidden/,
      );
      await assert.rejects(
        new ChainRouter(run.runtime.chains.get("s")).bind("tcp", ":0", { log }),
        /not allowed/,
      );
    } finally {
      await run.close();
    }
  },
});
