/**
 * Per-datagram cost of the packet crypts (`deno bench src/protocol/kcp/crypt_bench.ts`), and the
 * AES-CFB choices behind node_aes.ts's `AesCfb`: native `node:crypto` ECB/CBC passes against the T-table
 * AES in TypeScript (which `aes-192` still uses to encrypt, Deno having no `aes-192-cbc`).
 * @module
 */
import { createBlockCrypt, CRYPT_NAMES, deriveKey, KCP_IV, openPacket, sealPacket } from "./crypt.ts";
import { AesCfb } from "./node_aes.ts";
import { crc32 } from "../../core/crc32.ts";

const pass = await deriveKey("");
const pkt = crypto.getRandomValues(new Uint8Array(1350));

for (const name of CRYPT_NAMES) {
  const c = await createBlockCrypt(name, pass);
  Deno.bench(`seal+open 1350 B, ${name}`, { group: "crypt" }, () => {
    sealPacket(c, pkt);
    openPacket(c, pkt);
  });
}
Deno.bench("crc32 1350 B", { group: "crypt" }, () => {
  crc32(pkt);
});

const native = new AesCfb(pass.subarray(0, 32), KCP_IV);
const table = new AesCfb(pass.subarray(0, 24), KCP_IV);
Deno.bench("AES-256-CFB encrypt 1350 B (native CBC pass)", { group: "aes" }, () => native.encrypt(pkt));
Deno.bench("AES-256-CFB decrypt 1350 B (native ECB pass)", { group: "aes" }, () => native.decrypt(pkt));
Deno.bench("AES-192-CFB encrypt 1350 B (T-table)", { group: "aes" }, () => table.encrypt(pkt));
