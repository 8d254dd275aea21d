/**
 * Per-datagram cost of the packet crypts (`deno bench src/protocol/kcp/crypt_bench.ts`), and the
 * AES-CFB choices behind {@link AesCfb}: native `node:crypto` ECB/CBC passes against the T-table
 * AES in TypeScript (which `aes-192` still uses to encrypt, Deno having no `aes-192-cbc`).
 * @module
 */
import { AesCfb, createBlockCrypt, CRYPT_NAMES, deriveKey, openPacket, sealPacket } from "./crypt.ts";
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

const native = new AesCfb(pass.subarray(0, 32));
const table = new AesCfb(pass.subarray(0, 24));
Deno.bench("AES-256-CFB encrypt 1350 B (native CBC pass)", { group: "aes" }, () => native.encrypt(pkt));
Deno.bench("AES-256-CFB decrypt 1350 B (native ECB pass)", { group: "aes" }, () => native.decrypt(pkt));
Deno.bench("AES-192-CFB encrypt 1350 B (T-table)", { group: "aes" }, () => table.encrypt(pkt));
