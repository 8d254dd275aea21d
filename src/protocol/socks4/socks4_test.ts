import assert from "node:assert/strict";
import { BufferedReader } from "../../core/buffered_reader.ts";
import { streamDuplex } from "../../core/duplex.ts";
import { CMD_CONNECT, encodeReply, encodeRequest, readRequest, Reply } from "./socks4.ts";
import { hex, toHex } from "../../../tests/_helpers.ts";

const readerOf = (h: string) =>
  new BufferedReader(
    streamDuplex({ readable: ReadableStream.from([hex(h)]), writable: new WritableStream(), close() {} }),
  );

Deno.test("socks4: CONNECT to an IPv4 address, and the 4a form for a name", async () => {
  assert.equal(toHex(encodeRequest(CMD_CONNECT, "127.0.0.1:80", "bob")), "040100507f000001626f6200");
  const a = encodeRequest(CMD_CONNECT, "example.com:443");
  assert.equal(toHex(a), "040101bb0000000100" + toHex(new TextEncoder().encode("example.com")) + "00");
  assert.deepEqual(await readRequest(readerOf(toHex(a))), { cmd: 1, addr: "example.com:443", userId: "" });
  assert.deepEqual(await readRequest(readerOf("040100507f000001626f6200")), {
    cmd: 1,
    addr: "127.0.0.1:80",
    userId: "bob",
  });
  assert.equal(toHex(encodeReply(Reply.Granted)), "005a000000000000");
  assert.equal(toHex(encodeReply(Reply.Rejected)), "005b000000000000");
});

Deno.test("socks4: malformed requests", async () => {
  await assert.rejects(readRequest(readerOf("050100507f000001")), /bad version/);
  await assert.rejects(readRequest(readerOf("040100507f0000")), /closed/);
  await assert.rejects(readRequest(readerOf("040100507f000001" + "61".repeat(300) + "00")), /longer than/);
  await assert.rejects(readRequest(readerOf("04010050000000010000")), /empty socks4a host/);
});
