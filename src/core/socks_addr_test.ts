import assert from "node:assert/strict";
import { decodeSocksAddr, encodeSocksAddr, socksAddrLength } from "./socks_addr.ts";
import { toHex } from "../../tests/_helpers.ts";

Deno.test("encodes IPv4, IPv6 and domain addresses as SOCKS5 does", () => {
  assert.equal(toHex(encodeSocksAddr("127.0.0.1:8080")), "017f0000011f90");
  assert.equal(toHex(encodeSocksAddr("[::1]:53")), "04" + "00".repeat(15) + "01" + "0035");
  assert.equal(
    toHex(encodeSocksAddr("example.com:443")),
    "030b" + toHex(new TextEncoder().encode("example.com")) + "01bb",
  );
  assert.equal(toHex(encodeSocksAddr(":80")), "01000000000050");
});

Deno.test("decodes what it encodes, with the length consumed", () => {
  for (const a of ["10.0.0.1:1", "[2001:db8::1]:65535", "a.example:22"]) {
    const enc = encodeSocksAddr(a);
    const withTail = new Uint8Array([...enc, 9, 9]);
    const d = decodeSocksAddr(withTail);
    assert.equal(d.addr, a);
    assert.equal(d.length, enc.length);
  }
});

Deno.test("truncated and unknown address types are reported", () => {
  assert.equal(socksAddrLength(new Uint8Array([3])), -1);
  assert.throws(() => decodeSocksAddr(new Uint8Array([1, 127, 0])), /truncated/);
  assert.throws(() => decodeSocksAddr(new Uint8Array([9, 0, 0])), /unknown address type 0x09/);
  assert.throws(() => encodeSocksAddr(`${"x".repeat(256)}:1`), /too long/);
});
