/**
 * Golden tests: every HTTP/2 byte real gost 3.2.6 exchanged over h2c and cleartext gRPC
 * (testdata/h2_tunnels.json) parses with our frame codec and HPACK decoder into the frames and
 * header lists the capture recorded.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import {
  Flag,
  FRAME_HEADER,
  FrameType,
  parseFrameHeader,
  parseSettings,
  parseWindowUpdate,
  PREFACE,
  unpad,
} from "./frame.ts";
import { HpackDecoder } from "./hpack.ts";

interface Captured {
  type: string;
  flags: string;
  stream_id: number;
  length: number;
  headers?: [string, string][];
  settings?: { id: number; value: number }[];
  window_size_increment?: number;
  data_hex?: string;
}
interface Event {
  conn: string;
  dir?: string;
  hex?: string;
  frames?: Captured[];
}
const capture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/h2_tunnels.json", import.meta.url)),
) as { vectors: { id: string; events: Event[] }[] };

const TYPE_NAMES = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k]));
const hex = (s: string) => new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Our reading of one direction's bytes, in the capture's terms. */
function parseDirection(bytes: Uint8Array): Captured[] {
  let off = 0;
  if (bytes.length >= PREFACE.length && PREFACE.every((b, i) => bytes[i] === b)) off = PREFACE.length;
  const hpack = new HpackDecoder();
  const out: Captured[] = [];
  let block: Uint8Array[] = [];
  while (off + FRAME_HEADER <= bytes.length) {
    const h = parseFrameHeader(bytes, off);
    if (off + FRAME_HEADER + h.length > bytes.length) break; // the rest came after the capture ended
    const payload = bytes.subarray(off + FRAME_HEADER, off + FRAME_HEADER + h.length);
    off += FRAME_HEADER + h.length;
    const f: Captured = {
      type: TYPE_NAMES[h.type],
      flags: `0x${h.flags.toString(16).padStart(2, "0")}`,
      stream_id: h.streamId,
      length: h.length,
    };
    if (h.type === FrameType.SETTINGS) {
      f.settings = parseSettings(payload).map(([id, value]) => ({ id, value }));
    }
    if (h.type === FrameType.WINDOW_UPDATE) f.window_size_increment = parseWindowUpdate(payload);
    if (h.type === FrameType.DATA) f.data_hex = toHex(unpad(h, payload));
    if (h.type === FrameType.HEADERS || h.type === FrameType.CONTINUATION) {
      block.push(h.type === FrameType.HEADERS ? unpad(h, payload) : payload);
      if (h.flags & Flag.END_HEADERS) {
        const all = new Uint8Array(block.reduce((n, b) => n + b.length, 0));
        let at = 0;
        for (const b of block) all.set(b, (at += b.length) - b.length);
        f.headers = hpack.decode(all);
        block = [];
      }
    }
    out.push(f);
  }
  return out;
}

/** The capture's frames, only the fields we compare (and only frames its decoder finished). */
function expected(events: Event[]): Captured[] {
  return events.flatMap((e) => e.frames ?? []).filter((f) => f.type in FrameType).map((f) => {
    const g: Captured = { type: f.type, flags: f.flags, stream_id: f.stream_id, length: f.length };
    for (const k of ["window_size_increment", "data_hex", "headers"] as const) {
      if (f[k] !== undefined) (g as unknown as Record<string, unknown>)[k] = f[k];
    }
    if (f.settings) g.settings = f.settings.map(({ id, value }) => ({ id, value }));
    return g;
  });
}

for (const v of capture.vectors) {
  Deno.test(`golden ${v.id}: gost's HTTP/2 bytes decode to the captured frames and headers`, () => {
    const directions = new Map<string, Event[]>();
    for (const e of v.events) {
      if (!e.hex || !e.frames) continue;
      const key = `${e.conn} ${e.dir}`;
      directions.set(key, [...directions.get(key) ?? [], e]);
    }
    ok(directions.size > 0);
    for (const [key, events] of directions) {
      const bytes = hex(events.map((e) => e.hex).join(""));
      const ours = parseDirection(bytes);
      const theirs = expected(events);
      // A frame split across the capture's last read is in theirs only as far as it was seen.
      deepStrictEqual(ours.slice(0, theirs.length), theirs, key);
    }
  });
}
