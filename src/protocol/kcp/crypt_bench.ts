/**
 * Per-datagram cost of the packet crypts (`deno bench src/protocol/kcp/crypt_bench.ts`).
 * @module
 */
import { createBlockCrypt, CRYPT_NAMES, deriveKey, openPacket, sealPacket } from "./crypt.ts";
import { crc32 } from "../../core/crc32.ts";

const pass = deriveKey("");
const pkt = crypto.getRandomValues(new Uint8Array(1350));

for (const name of CRYPT_NAMES) {
  const c = createBlockCrypt(name, pass);
  Deno.bench(`seal+open 1350 B, ${name}`, { group: "crypt" }, () => {
    sealPacket(c, pkt);
    openPacket(c, pkt);
  });
}
Deno.bench("crc32 1350 B", { group: "crypt" }, () => {
  crc32(pkt);
});
