/**
 * KCP options as gost spells them (`kcp.key`, `kcp.crypt`, `kcp.mode`, …), the JSON
 * config file (`c=` / `configFile=`, kcptun's field names) and the inline `config` map.
 *
 * Precedence: built-in defaults < config file < inline `config` map < single `kcp.*`
 * options, each counting only when actually given. (Real gost assigns every single option
 * unconditionally, so an unset `kcp.key` silently wipes the file's key; we do not copy that.)
 *
 * Defaults pair with a real gost 3.2.6 endpoint running its defaults: that binary derives
 * its key from the EMPTY string, so our default key is "" too. kcptun's own default key is
 * `it's a secrect`: set `kcp.key=it's a secrect` to pair with a default kcptun.
 * @module
 */
import { ConfigError } from "../../core/errors.ts";
import { readConfigFile } from "../../core/files.ts";
import { defineOptions, type Metadata, opt, type Options } from "../../core/options.ts";
import { CRYPT_NAMES, type CryptName } from "./crypt.ts";

export const MODES = ["normal", "fast", "fast2", "fast3", "manual"] as const;
export type Mode = typeof MODES[number];

/** The resolved KCP configuration of one listener or dialer. */
export interface KcpConfig {
  key: string;
  crypt: CryptName;
  mode: Mode;
  mtu: number;
  sndwnd: number;
  rcvwnd: number;
  datashard: number;
  parityshard: number;
  dscp: number;
  nocomp: boolean;
  acknodelay: boolean;
  nodelay: number;
  interval: number;
  resend: number;
  nc: number;
  sockbuf: number;
  smuxver: 1 | 2;
  smuxbuf: number;
  streambuf: number;
  /** smux keepalive interval, seconds. */
  keepalive: number;
  /** gost-deno's own: pace sending to the delivery rate (pacer.ts); gost and kcptun send in bursts. */
  pacing: boolean;
}

/** gost's documented defaults (which kcptun 20210922 shares), except the key: see module doc. */
export const DEFAULT_KCP_CONFIG: Readonly<KcpConfig> = {
  key: "",
  crypt: "aes",
  mode: "fast",
  mtu: 1350,
  sndwnd: 1024,
  rcvwnd: 1024,
  datashard: 10,
  parityshard: 3,
  dscp: 0,
  nocomp: false,
  acknodelay: false,
  nodelay: 0,
  interval: 50,
  resend: 0,
  nc: 0,
  sockbuf: 4194304,
  smuxver: 1,
  smuxbuf: 4194304,
  streambuf: 2097152,
  keepalive: 10,
  pacing: true,
};

/** (nodelay, interval, resend, nc) of each preset mode. */
const PRESETS: Record<Exclude<Mode, "manual">, [number, number, number, number]> = {
  normal: [0, 40, 2, 1],
  fast: [0, 30, 2, 1],
  fast2: [1, 20, 2, 1],
  fast3: [1, 10, 2, 1],
};

/** The options a kcp listener and dialer read from metadata. */
export const kcpOptions = defineOptions({
  configFile: opt.string(["kcp.configFile", "configFile", "c"], ""),
  config: opt.map(["kcp.config", "config"]),
  key: opt.string(["kcp.key"], DEFAULT_KCP_CONFIG.key),
  crypt: opt.oneOf(["kcp.crypt"], DEFAULT_KCP_CONFIG.crypt, CRYPT_NAMES),
  mode: opt.oneOf(["kcp.mode"], DEFAULT_KCP_CONFIG.mode, MODES),
  mtu: opt.int(["kcp.mtu"], DEFAULT_KCP_CONFIG.mtu, { min: 128, max: 1500 }),
  sndwnd: opt.int(["kcp.sndwnd"], DEFAULT_KCP_CONFIG.sndwnd, { min: 1, max: 65535 }),
  rcvwnd: opt.int(["kcp.rcvwnd"], DEFAULT_KCP_CONFIG.rcvwnd, { min: 1, max: 65535 }),
  datashard: opt.int(["kcp.datashard", "kcp.ds"], DEFAULT_KCP_CONFIG.datashard, { min: 0, max: 255 }),
  parityshard: opt.int(["kcp.parityshard", "kcp.ps"], DEFAULT_KCP_CONFIG.parityshard, { min: 0, max: 255 }),
  dscp: opt.int(["kcp.dscp"], 0, { min: 0, max: 63 }),
  nocomp: opt.bool(["kcp.nocomp"], DEFAULT_KCP_CONFIG.nocomp),
  acknodelay: opt.bool(["kcp.acknodelay"], DEFAULT_KCP_CONFIG.acknodelay),
  nodelay: opt.int(["kcp.nodelay"], DEFAULT_KCP_CONFIG.nodelay, { min: 0, max: 1 }),
  interval: opt.int(["kcp.interval"], DEFAULT_KCP_CONFIG.interval, { min: 1, max: 5000 }),
  resend: opt.int(["kcp.resend"], DEFAULT_KCP_CONFIG.resend, { min: 0, max: 255 }),
  nc: opt.int(["kcp.nc"], DEFAULT_KCP_CONFIG.nc, { min: 0, max: 1 }),
  sockbuf: opt.int(["kcp.sockbuf"], DEFAULT_KCP_CONFIG.sockbuf, { min: 0 }),
  smuxver: opt.int(["kcp.smuxver"], DEFAULT_KCP_CONFIG.smuxver, { min: 1, max: 2 }),
  smuxbuf: opt.int(["kcp.smuxbuf"], DEFAULT_KCP_CONFIG.smuxbuf, { min: 0 }),
  streambuf: opt.int(["kcp.streambuf"], DEFAULT_KCP_CONFIG.streambuf, { min: 0 }),
  keepalive: opt.int(["kcp.keepalive"], DEFAULT_KCP_CONFIG.keepalive, { min: 0 }),
  pacing: opt.bool(["kcp.pacing"], DEFAULT_KCP_CONFIG.pacing),
  tcp: opt.bool(["kcp.tcp", "tcp"], false),
  backlog: opt.int(["backlog"], 128, { min: 1, max: 65536 }),
  /** Listener: half-open sessions (no stream yet) one IP address may hold; its oldest goes first. */
  backlogPerIP: opt.int(["kcp.backlogPerIP", "backlogPerIP"], 16, { min: 1, max: 65536 }),
  handshakeTimeout: opt.duration(["handshakeTimeout"], 10_000),
  /** A session that hears nothing valid for this long is closed (smux keepalive keeps live ones busy). */
  idleTimeout: opt.duration(["kcp.idleTimeout", "idleTimeout"], 60_000),
});

export type KcpOptions = Options<typeof kcpOptions.schema>;

/** The fields of {@link KcpConfig} that single `kcp.*` options and file fields can set. */
const FIELDS = Object.keys(DEFAULT_KCP_CONFIG) as (keyof KcpConfig)[];

/** True when `md` gives one of `names` (case-insensitive). */
function given(md: Metadata | undefined, names: string[]): boolean {
  const lower = names.map((n) => n.toLowerCase());
  return Object.entries(md ?? {}).some(([k, v]) =>
    v !== undefined && v !== null && lower.includes(k.toLowerCase())
  );
}

/**
 * Merges the defaults, the config file, the inline map and the explicitly given `kcp.*`
 * options. `path` locates errors (`services[0].listener.metadata`).
 */
export function resolveKcpConfig(md: Metadata | undefined, opts: KcpOptions, path: string): KcpConfig {
  if (opts.tcp) {
    throw new ConfigError(`${path}.kcp.tcp`, "fake-TCP mode (tcpraw) is not supported; remove kcp.tcp");
  }
  const merged: Record<string, unknown> = {};
  if (opts.configFile) {
    const text = readConfigFile(opts.configFile, `${path}.configFile`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        `${path}.configFile`,
        `${opts.configFile} is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) {
      throw new ConfigError(`${path}.configFile`, `${opts.configFile} must hold a JSON object`);
    }
    Object.assign(merged, json);
  }
  // The inline map arrives as strings; the option parsers below type them.
  Object.assign(merged, opts.config);

  // File and map fields use kcptun's bare names: parse them through the same schema.
  const fromFile: Metadata = {};
  for (const [k, v] of Object.entries(merged)) {
    const field = FIELDS.find((f) => f.toLowerCase() === k.toLowerCase());
    if (field) fromFile[`kcp.${field}`] = v;
  }
  const filePath = opts.configFile ? `${path}.configFile(${opts.configFile})` : `${path}.config`;
  const fileOpts = kcpOptions.parse(fromFile, filePath);

  const cfg = { ...DEFAULT_KCP_CONFIG } as Record<string, unknown>;
  for (const f of FIELDS) {
    const spec = kcpOptions.schema[f as keyof typeof kcpOptions.schema];
    if (given(fromFile, spec.names)) cfg[f] = fileOpts[f as keyof KcpOptions];
    if (given(md, spec.names)) cfg[f] = opts[f as keyof KcpOptions];
  }
  const out = cfg as unknown as KcpConfig;
  if (out.mode !== "manual") [out.nodelay, out.interval, out.resend, out.nc] = PRESETS[out.mode];
  // smux buffers default to the socket buffer when unset, as gost does.
  if (out.smuxbuf <= 0) out.smuxbuf = out.sockbuf;
  if (out.streambuf <= 0) out.streambuf = Math.floor(out.sockbuf / 2);
  if (out.streambuf > out.smuxbuf) out.streambuf = out.smuxbuf;
  if ((out.datashard === 0) !== (out.parityshard === 0)) {
    throw new ConfigError(
      `${path}`,
      "kcp.datashard and kcp.parityshard must both be 0 (FEC off) or both positive",
    );
  }
  return out;
}
