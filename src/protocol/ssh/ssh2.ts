/**
 * The one place npm `ssh2` is imported, with the few shapes of it this program uses and the
 * algorithm preferences shared by our client and server.
 * @module
 */
// First: it answers ssh2's request for its native addon with libcrypto's ciphers.
import { sshCrypto, uninstallBindingHook } from "./binding_hook.ts";
import ssh2 from "ssh2";
// @ts-ignore: ssh2 ships no types for its internals
import ssh2Channel from "ssh2/lib/Channel.js";
import type { NodeChannel } from "./stream.ts";

uninstallBindingHook();

/**
 * ssh2's `Channel.destroy()` is `end(); close()`, and Node streams call it again on their own
 * once both sides are done: an `end()` on a finished stream builds an ERR_STREAM_ALREADY_FINISHED
 * error (a captured stack trace) that nobody sees. Under Deno that was 13–17% of each process's
 * CPU at ~500 short connections per second (rtcp via sshd, profiled). Same steps, without the
 * wasted error: `end()` only while the writable side has not ended.
 */
{
  // deno-lint-ignore no-explicit-any
  const proto = (ssh2Channel as any).Channel.prototype;
  proto.destroy = function (this: { writableEnded: boolean; end(): void; close(): void }) {
    if (!this.writableEnded) this.end();
    this.close();
    return this;
  };
}

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
 * Cipher preference. On libcrypto: AES-128-GCM first, as gost (Go's x/crypto/ssh) prefers it
 * and where AES instructions make it the fastest (OpenSSL here: ~1.7 GB/s against
 * chacha20-poly1305's ~1.15 GB/s per 32 KiB packet). On Deno's crypto: chacha20-poly1305 first
 * (about twice `node:crypto`'s AES-GCM under Deno), then AES-GCM and AES-CTR for peers without it.
 */
export const CIPHERS = sshCrypto.native
  ? [
    "aes128-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
  ]
  : [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
  ];

/** Which ciphers run on libcrypto (both false: all on Deno's crypto). */
export const NATIVE_CIPHERS: { readonly native: boolean; readonly chacha20: boolean } = sshCrypto;

/** Algorithm lists given to both our client and server. */
export const ALGORITHMS = { cipher: CIPHERS };

/** An `ssh2` channel: a Node duplex stream. */
export type Channel = NodeChannel;
