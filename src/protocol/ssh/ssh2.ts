/**
 * The one place npm `ssh2` is imported, with the few shapes of it this program uses and the
 * algorithm preferences shared by our client and server.
 * @module
 */
import ssh2 from "ssh2";
import type { NodeChannel } from "./stream.ts";

// deno-lint-ignore no-explicit-any
const lib = ssh2 as any;

/** `ssh2.Client`: a client connection. */
// deno-lint-ignore no-explicit-any
export const Client: new () => any = lib.Client;
/** `ssh2.Server`: accepts client connections (we inject each socket ourselves). */
// deno-lint-ignore no-explicit-any
export const Server: new (cfg: any, onConnection: (client: any, info: any) => void) => any = lib.Server;

/** A parsed SSH key (`ssh2.utils.parseKey`). */
export interface ParsedKey {
  readonly type: string;
  readonly comment: string;
  getPublicSSH(): Uint8Array;
  getPrivatePEM(): string;
  verify(data: Uint8Array, signature: Uint8Array, hashAlgo?: string): boolean | Error;
  isPrivateKey(): boolean;
}

/** Parses one key (OpenSSH, PEM or public `ssh-xxx AAAA… comment` line); throws on failure. */
export function parseKey(data: string | Uint8Array, passphrase?: string): ParsedKey {
  const r = lib.utils.parseKey(data, passphrase);
  if (r instanceof Error) throw r;
  return Array.isArray(r) ? r[0] : r;
}

/**
 * A fresh ed25519 key pair in OpenSSH format. Under Deno, ssh2's generator writes about one
 * key in 200 that ssh2's own parser refuses ("Malformed OpenSSH private key"; measured 17 of
 * 3000), which made an sshd service without a key file fail to start now and then: a pair is
 * only returned once it parses, and a new one is drawn otherwise.
 */
export function generateHostKey(): { private: string; public: string } {
  for (let attempt = 1;; attempt++) {
    const pair = lib.utils.generateKeyPairSync("ed25519");
    if (!(lib.utils.parseKey(pair.private) instanceof Error) || attempt >= 20) return pair;
  }
}

/**
 * Cipher preference: chacha20-poly1305 first (about twice AES-GCM's speed under Deno, where
 * ssh2's native binding is absent), then AES-GCM and AES-CTR for peers without it.
 */
export const CIPHERS = [
  "chacha20-poly1305@openssh.com",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
];

/** Algorithm lists given to both our client and server. */
export const ALGORITHMS = { cipher: CIPHERS };

/** An `ssh2` channel: a Node duplex stream. */
export type Channel = NodeChannel;
