/**
 * A self-signed ECDSA P-256 leaf certificate, built with Web Crypto and a few DER encoders
 * in a few milliseconds. It is an end-entity certificate (CA:FALSE) with subjectAltName,
 * so strict verifiers (rustls/webpki) accept it when it is pinned as its own trust anchor.
 * @module
 */
import { isIPv4, parseIPv6 } from "../addr.ts";
import { concat } from "../bytes.ts";
import { bits, explicit, oid, pem, seq, TAG, time, tlv, uint, utf8 } from "./der.ts";

/** A certificate and its private key, both PEM. */
export interface CertPair {
  cert: string;
  key: string;
}

/** What goes into a generated certificate. */
export interface SelfSignedOptions {
  /** Subject and issuer common name (gost uses "gost.run"). */
  commonName?: string;
  /** Subject organisation (gost uses "GOST"). */
  organization?: string;
  /** DNS names and IP addresses for subjectAltName. */
  hosts?: string[];
  /** Validity from one hour ago, in milliseconds (gost: 8760 h). */
  validityMs?: number;
}

const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

const HOUR = 3600_000;

function name(cn: string, org: string): Uint8Array {
  const rdn = (type: string, value: string) => tlv(TAG.SET, seq(oid(type), utf8(value)));
  return seq(rdn(OID.organization, org), rdn(OID.commonName, cn));
}

function ipBytes(host: string): Uint8Array | null {
  if (isIPv4(host)) return Uint8Array.from(host.split(".").map(Number));
  return parseIPv6(host);
}

function subjectAltName(hosts: string[]): Uint8Array {
  const names = hosts.map((h) => {
    const ip = ipBytes(h);
    // GeneralName: [7] iPAddress (primitive), [2] dNSName (primitive IA5String).
    return ip ? tlv(0x87, ip) : tlv(0x82, new TextEncoder().encode(h));
  });
  return seq(...names);
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  const parts = [oid(id)];
  if (critical) parts.push(tlv(TAG.BOOLEAN, Uint8Array.of(0xff)));
  parts.push(tlv(TAG.OCTET_STRING, value));
  return seq(...parts);
}

/** Web Crypto's ECDSA signature is r‖s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function derSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}

/** Generates a fresh key pair and a self-signed leaf certificate for it. */
export async function selfSignedCert(opts: SelfSignedOptions = {}): Promise<CertPair> {
  const cn = opts.commonName ?? "gost.run";
  const hosts = opts.hosts ?? [cn, "localhost", "127.0.0.1", "::1"];
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f;
  serial[0] |= 0x01; // positive and never zero-stripped to fewer bytes
  const now = Date.now();
  const sigAlg = seq(oid(OID.ecdsaWithSHA256));
  const subject = name(cn, opts.organization ?? "GOST");
  const extensions = seq(
    extension(OID.basicConstraints, true, seq()),
    // digitalSignature only: the key signs handshakes (ECDHE), it never encrypts.
    extension(OID.keyUsage, true, tlv(TAG.BIT_STRING, Uint8Array.of(7, 0x80))),
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.subjectAltName, false, subjectAltName(hosts)),
  );
  const tbs = seq(
    explicit(0, uint(Uint8Array.of(2))),
    uint(serial),
    sigAlg,
    subject,
    seq(time(new Date(now - HOUR)), time(new Date(now + (opts.validityMs ?? 8760 * HOUR)))),
    subject,
    spki,
    explicit(3, extensions),
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, tbs),
  );
  const der = seq(tbs, sigAlg, bits(derSignature(sig)));
  return { cert: pem("CERTIFICATE", der), key: pem("PRIVATE KEY", concat([pkcs8])) };
}
