import assert from "node:assert/strict";
import { enlargeSocketBuffers, SOCKET_BUFFER } from "./sockbuf.ts";

Deno.test("enlargeSocketBuffers raises the receive buffer of a UDP socket (with ffi permission)", () => {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    const granted = enlargeSocketBuffers(sock);
    if (Deno.build.os !== "linux" || Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      assert.equal(granted, 0);
      return;
    }
    const max = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max"));
    // Linux doubles what it grants (bookkeeping overhead), capped by rmem_max.
    assert.equal(granted, 2 * Math.min(SOCKET_BUFFER, max));
  } finally {
    sock.close();
  }
});

Deno.test("enlargeSocketBuffers leaves the socket alone without ffi permission", {
  permissions: { net: true, read: true, ffi: false },
}, () => {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    assert.equal(enlargeSocketBuffers(sock), 0);
  } finally {
    sock.close();
  }
});
