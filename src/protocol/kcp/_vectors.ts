/**
 * Test helper: the KCP datagrams captured from real gost 3.2.6 (`reference/vectors/kcp.json`).
 * @module
 */

/** A copy of `reference/vectors/kcp.json`, kept with the tests. */
const VECTORS_PATH = new URL("./testdata/gost_3.2.6_kcp.json", import.meta.url);

/** One captured datagram with its decoded annotation. */
export interface CapturedPacket {
  dir: string;
  hex: string;
  decoded: {
    decrypted_hex: string;
    fec: { seqid: number; type: string; size?: number };
    kcp_segments: {
      conv: number;
      cmd: number;
      frg: number;
      wnd: number;
      ts: number;
      sn: number;
      una: number;
      len: number;
      data_hex: string;
    }[];
  };
}

/** The capture file. */
export function loadKcpVectors(): { crypto: Record<string, any>; vectors: any[] } {
  return JSON.parse(Deno.readTextFileSync(VECTORS_PATH));
}

/** Every captured KCP datagram of a vector, in order. */
export function packetsOf(vector: any): CapturedPacket[] {
  return vector.events.filter((e: any) => e.conn === "udp" && e.hex);
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
