/**
 * TLS settings of listeners and dialers: the option names gost reads (from the `tls` block or
 * from metadata), the files they name, and the default server certificate.
 * @module
 */
import { createSecureContext } from "node:tls";
import { ConfigError, errorMessage } from "../errors.ts";
import { readConfigFile, readEach } from "../files.ts";
import { opt } from "../options.ts";
import { type CertPair, selfSignedCert } from "./selfsigned.ts";

/** A `tls` block of a listener, handler, connector or dialer (gost's `TLSConfig`). */
export interface TLSConfig {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  secure?: boolean;
  serverName?: string;
}

/** File options both sides accept in metadata (the `tls` block takes precedence). */
export const tlsFileOptions = {
  certFile: opt.string(["certFile", "tls.certFile"], ""),
  keyFile: opt.string(["keyFile", "tls.keyFile"], ""),
  caFile: opt.string(["caFile", "tls.caFile"], ""),
};

/** Client-only options: verification (off by default, like gost) and SNI. */
export const tlsClientOptions = {
  ...tlsFileOptions,
  secure: opt.bool(["secure", "tls.secure"], false),
  serverName: opt.string(["serverName", "tls.serverName"], ""),
};

/** The handshake deadline option both sides share (gost's `handshakeTimeout`). */
export const handshakeTimeoutOption = opt.duration(["handshakeTimeout"], 15_000);

/** Parsed TLS file options. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** PEM text a TLS endpoint uses. */
export interface TlsMaterial {
  /** Own certificate chain and key; absent on a client without a client certificate. */
  pair?: CertPair;
  /** CA certificates: the server's clients (mutual TLS) or the client's pinned roots. */
  ca?: string;
}

function pick(block: string | undefined, md: string): string {
  return block !== undefined && block !== "" ? block : md;
}

/** Reads the files named by the `tls` block or metadata; throws {@link ConfigError}. */
export function readTlsFiles(block: TLSConfig | undefined, md: TlsFiles, path: string): TlsMaterial {
  const certFile = pick(block?.certFile, md.certFile);
  const keyFile = pick(block?.keyFile, md.keyFile);
  const caFile = pick(block?.caFile, md.caFile);
  const where = (k: string) => block?.[k as keyof TLSConfig] ? `${path}.tls.${k}` : `${path}.metadata.${k}`;
  if (certFile && !keyFile) throw new ConfigError(where("certFile"), "certFile is set but keyFile is not");
  if (keyFile && !certFile) throw new ConfigError(where("keyFile"), "keyFile is set but certFile is not");
  const read = (file: string, k: string) => () => file ? readConfigFile(file, where(k)) : undefined;
  const [cert, key, ca] = readEach(
    read(certFile, "certFile"),
    read(keyFile, "keyFile"),
    read(caFile, "caFile"),
  );
  const out: TlsMaterial = {};
  if (cert !== undefined && key !== undefined) {
    out.pair = { cert, key };
    try {
      createSecureContext({ cert: out.pair.cert, key: out.pair.key });
    } catch (err) {
      throw new ConfigError(
        where("certFile"),
        `${JSON.stringify(certFile)} and ${JSON.stringify(keyFile)} are not a usable certificate and key: ${
          errorMessage(err)
        }`,
      );
    }
  }
  if (ca !== undefined) {
    out.ca = ca;
    if (!out.ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigError(where("caFile"), `${JSON.stringify(caFile)} holds no PEM certificate`);
    }
  }
  return out;
}

let generated: Promise<CertPair> | undefined;

/**
 * The server certificate when none is configured: `cert.pem`/`key.pem` from the working
 * directory when both exist (as gost does), else one self-signed certificate generated for
 * the whole process and kept in memory.
 */
export function defaultServerPair(): Promise<CertPair> {
  try {
    const cert = Deno.readTextFileSync("cert.pem");
    const key = Deno.readTextFileSync("key.pem");
    createSecureContext({ cert, key });
    return Promise.resolve({ cert, key });
  } catch {
    // not there, unreadable or unusable: generate one
  }
  generated ??= selfSignedCert();
  return generated;
}
