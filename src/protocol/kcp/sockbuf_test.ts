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
  permissions: { net: true, ffi: false },
}, () => {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    assert.equal(enlargeSocketBuffers(sock), 0);
  } finally {
    sock.close();
  }
});

Deno.test("enlargeSocketBuffers needs only ffi permission (no access to /proc)", {
  permissions: { net: true, ffi: true },
  ignore: Deno.build.os !== "linux",
}, () => {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const other = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    // The socket is found by its port among the process's descriptors, not mistaken for another.
    assert.ok(enlargeSocketBuffers(sock) > 212992);
    assert.ok(enlargeSocketBuffers(other) > 212992);
  } finally {
    sock.close();
    other.close();
  }
});
