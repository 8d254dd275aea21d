import assert from "node:assert/strict";
import { encodingMatrix, FecDecoder, FecEncoder, TYPE_DATA, TYPE_PARITY } from "./fec.ts";
import { hex, loadKcpVectors, packetsOf, toHex } from "./_vectors.ts";

const mitm = loadKcpVectors().vectors.find((v: any) => v.id === "kcp-gost-to-gost-mitm");
const clientPackets = packetsOf(mitm).filter((p) => p.dir === "gost-client->gost-server");

Deno.test("kcp fec: the encoding matrix is systematic (identity on top)", () => {
  const m = encodingMatrix(10, 3);
  for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) assert.equal(m[r][c], r === c ? 1 : 0);
});

Deno.test("kcp fec: parity of gost's first group equals the captured parity shards", () => {
  const enc = new FecEncoder(10, 3, 20);
  const data = clientPackets.filter((p) => p.decoded.fec.type === "0xf1").slice(0, 10);
  const parity = clientPackets.filter((p) => p.decoded.fec.type === "0xf2");
  assert.equal(data.length, 10);
  assert.equal(parity.length, 3);
  let out: Uint8Array[] = [];
  for (const p of data) {
    const plain = hex(p.decoded.decrypted_hex);
    const mine = plain.slice();
    mine.fill(0, 20, 28); // the encoder writes seqid, type and size itself
    out = enc.encode(mine);
    assert.deepEqual(mine.subarray(20, 28), plain.subarray(20, 28));
  }
  assert.equal(out.length, 3);
  out.forEach((pkt, i) => {
    const want = hex(parity[i].decoded.decrypted_hex);
    assert.equal(toHex(pkt.subarray(20)), toHex(want.subarray(20)), `parity ${i}`);
    assert.equal((parity[i].decoded as any).fec.parity_shard_hex, toHex(pkt.subarray(26)));
  });
});

/** Builds `n` groups of FEC packets (no crypt header) over random KCP-like payloads. */
function makePackets(groups: number, ds = 10, ps = 3) {
  const enc = new FecEncoder(ds, ps, 0);
  const packets: { pkt: Uint8Array; payload?: Uint8Array }[] = [];
  for (let i = 0; i < groups * ds; i++) {
    const payload = crypto.getRandomValues(new Uint8Array(24 + Math.floor(Math.random() * 1300)));
    const pkt = new Uint8Array(8 + payload.length);
    pkt.set(payload, 8);
    const parity = enc.encode(pkt);
    packets.push({ pkt, payload });
    for (const p of parity) packets.push({ pkt: p });
  }
  return packets;
}

Deno.test("kcp fec: any 3 lost packets of a group are rebuilt, data and parity alike", () => {
  for (let trial = 0; trial < 30; trial++) {
    const packets = makePackets(1);
    const lost = new Set<number>();
    while (lost.size < 3) lost.add(Math.floor(Math.random() * 13));
    const dec = new FecDecoder(10, 3);
    const rebuilt: Uint8Array[] = [];
    packets.forEach((p, i) => {
      if (!lost.has(i)) rebuilt.push(...dec.decode(p.pkt));
    });
    const lostData = [...lost].filter((i) => i < 10).sort((a, b) => a - b);
    assert.equal(rebuilt.length, lostData.length);
    rebuilt.forEach((shard, k) => {
      const want = packets[lostData[k]].payload!;
      const size = shard[0] | (shard[1] << 8);
      assert.equal(size, want.length + 2);
      assert.deepEqual(shard.subarray(2, size), want);
    });
  }
});

Deno.test("kcp fec: the decoder copies what it keeps: packets fed through one reused buffer still rebuild", () => {
  const packets = makePackets(6);
  const dec = new FecDecoder(10, 3);
  const buf = new Uint8Array(1600);
  const rebuilt: Uint8Array[] = [];
  const lostData: Uint8Array[] = [];
  packets.forEach((p, i) => {
    // Lose data packets 2 and 7 of every group of 13.
    if (i % 13 === 2 || i % 13 === 7) return lostData.push(p.payload!);
    buf.set(p.pkt);
    rebuilt.push(...dec.decode(buf.subarray(0, p.pkt.length)).map((s) => s.slice()));
    buf.fill(0x5a);
  });
  assert.equal(rebuilt.length, lostData.length);
  rebuilt.forEach((shard, k) => {
    const size = shard[0] | (shard[1] << 8);
    assert.deepEqual(shard.subarray(2, size), lostData[k]);
  });
});

Deno.test("kcp fec: a lending encoder writes each group's parity over the last", () => {
  const lending = new FecEncoder(10, 3, 0), fresh = new FecEncoder(10, 3, 0);
  lending.lendParity();
  let first: Uint8Array[] = [];
  for (let g = 0; g < 2; g++) {
    for (let i = 0; i < 10; i++) {
      const payload = crypto.getRandomValues(new Uint8Array(24 + 50 * i + g));
      const a = new Uint8Array(8 + payload.length), b = new Uint8Array(8 + payload.length);
      a.set(payload, 8), b.set(payload, 8);
      const lent = lending.encode(a), own = fresh.encode(b);
      assert.equal(lent.length, own.length);
      lent.forEach((p, k) => assert.deepEqual(p, own[k]));
      if (g === 0 && lent.length) first = lent;
    }
  }
  assert.equal(first.length, 3);
  assert.ok(first.every((p, k) => p.buffer === lending.lent![k].buffer));
});

Deno.test("kcp fec: 4 losses in a group cannot be rebuilt; duplicates and foreign types are ignored", () => {
  const packets = makePackets(1);
  const dec = new FecDecoder(10, 3);
  let n = 0;
  packets.forEach((p, i) => {
    if (i >= 4) n += dec.decode(p.pkt).length + dec.decode(p.pkt).length;
  });
  assert.equal(n, 0);
  // a data-typed packet in a parity slot
  const bad = packets[10].pkt.slice();
  bad[4] = TYPE_DATA;
  assert.deepEqual(new FecDecoder(10, 3).decode(bad), []);
  assert.equal(packets[10].pkt[4], TYPE_PARITY);
});

Deno.test("kcp fec: the decoder holds a bounded number of groups under random seqids", () => {
  const dec = new FecDecoder(10, 3);
  for (let i = 0; i < 10_000; i++) {
    const pkt = crypto.getRandomValues(new Uint8Array(40));
    pkt[4] = i % 2 ? TYPE_DATA : TYPE_PARITY;
    dec.decode(pkt);
  }
  assert.ok(dec.groupCount <= 4);
});

Deno.test("kcp fec: parity equals the encoding matrix times the data, for 1 to 7 parity shards", () => {
  for (const [ds, ps] of [[10, 1], [4, 2], [10, 3], [6, 4], [5, 7]]) {
    const m = encodingMatrix(ds, ps);
    const enc = new FecEncoder(ds, ps, 0);
    // Odd lengths exercise the byte tail after the word loop.
    const shards = Array.from({ length: ds }, (_, i) => crypto.getRandomValues(new Uint8Array(37 + 101 * i)));
    let out: Uint8Array[] = [];
    for (const s of shards) {
      const pkt = new Uint8Array(6 + s.length);
      pkt.set(s.subarray(2), 8);
      out = enc.encode(pkt);
      s.set(pkt.subarray(6, 8)); // the size field the encoder wrote is part of the shard
    }
    assert.equal(out.length, ps);
    const width = Math.max(...shards.map((s) => s.length));
    for (let r = 0; r < ps; r++) {
      const want = new Uint8Array(width);
      for (let j = 0; j < ds; j++) {
        shards[j].forEach((x, k) => {
          let prod = 0;
          for (let a = m[ds + r][j], b = x; b > 0; b >>= 1, a = (a << 1) ^ (a & 0x80 ? 0x11d : 0)) {
            if (b & 1) prod ^= a;
          }
          want[k] ^= prod & 0xff;
        });
      }
      assert.equal(toHex(out[r].subarray(6)), toHex(want), `${ds}/${ps} parity ${r}`);
    }
  }
});
