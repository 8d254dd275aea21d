import assert from "node:assert/strict";
import { Arq } from "./arq.ts";
import { Pacer, type PacerClock, type PacerOptions, type SendBudget } from "./pacer.ts";

/** A clock that moves only when told, with timers that fire as it passes them. */
function fakeClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const clock: PacerClock = {
    now: () => now,
    setTimer(fn, ms) {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimer: (id) => void timers.delete(id as number),
  };
  return {
    clock,
    timers,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

const options = (over: Partial<PacerOptions> = {}): PacerOptions => ({
  floor: 10,
  burst: 20,
  gain: 1.25,
  sampleMs: 50,
  samples: 4,
  datagramsPerSegment: 1,
  ...over,
});

Deno.test("pacer: a full burst at once, then the floor rate, and a wake-up once budget is back", () => {
  const t = fakeClock();
  let resumed = 0;
  const p = new Pacer(() => resumed++, options(), t.clock);
  assert.equal(p.allowance(), 20);
  p.spend(20, true);
  assert.equal(p.allowance(), 0);
  assert.equal(t.timers.size, 1, "held back: a wake-up is armed");
  t.advance(1);
  assert.equal(resumed, 1);
  assert.equal(p.allowance(), 10, "10 per ms at the floor");
  t.advance(100);
  assert.equal(p.allowance(), 20, "never more than one burst banked");
  p.spend(3, false);
  assert.equal(t.timers.size, 0, "not held back: no wake-up");
});

Deno.test("pacer: FEC parity counts against the budget", () => {
  const t = fakeClock();
  const p = new Pacer(() => {}, options({ datagramsPerSegment: 1.3 }), t.clock);
  assert.equal(p.allowance(), 15); // floor(20 / 1.3)
  p.spend(10, false);
  assert.equal(p.allowance(), 5); // 20 - 13 = 7 datagrams left, 5 with their parity
});

Deno.test("pacer: the rate follows the best recent delivery rate times the gain, never below the floor", () => {
  const t = fakeClock();
  const p = new Pacer(() => {}, options({ datagramsPerSegment: 1.3 }), t.clock);
  assert.equal(p.rate, 10);
  t.advance(50);
  p.delivered(2000); // 40 segments per ms
  assert.ok(Math.abs(p.rate - 40 * 1.3 * 1.25) < 1e-9, `${p.rate}`);
  // A slower sample does not lower it while the fast one is among the last four.
  for (let i = 0; i < 3; i++) {
    t.advance(50);
    p.delivered(500);
    assert.ok(Math.abs(p.rate - 65) < 1e-9, `${p.rate}`);
  }
  t.advance(50);
  p.delivered(500); // the fast sample has aged out: 10 segments per ms
  assert.ok(Math.abs(p.rate - 10 * 1.3 * 1.25) < 1e-9, `${p.rate}`);
  for (let i = 0; i < 4; i++) {
    t.advance(50);
    p.delivered(1);
  }
  assert.equal(p.rate, 10, "back at the floor");
});

Deno.test("pacer: a closed pacer never resumes", () => {
  const t = fakeClock();
  let resumed = 0;
  const p = new Pacer(() => resumed++, options(), t.clock);
  p.spend(20, true);
  p.close();
  t.advance(10);
  assert.equal(resumed, 0);
  assert.equal(t.timers.size, 0);
});

Deno.test("arq with a budget: data only as far as allowed, the rest stays queued for the next flush", () => {
  const sent: Uint8Array[] = [];
  const a = new Arq(7, (pkt) => sent.push(pkt));
  a.setMtu(1350);
  a.setNoDelay(0, 30, 2, 1);
  a.setWindowSize(128, 128);
  a.stream = true;
  let allowance = 3;
  const spent: [number, boolean][] = [];
  const budget: SendBudget = {
    allowance: () => allowance,
    spend: (n, heldBack) => {
      spent.push([n, heldBack]);
      allowance = Math.max(0, allowance - n);
    },
  };
  a.budget = budget;
  a.send(new Uint8Array(10 * a.mss)); // ten full segments
  a.flush(false);
  assert.equal(sent.length, 3);
  assert.deepEqual(spent, [[3, true]]);
  assert.equal(a.stats.outSegs, 3);
  // The rest waits in the queue: out of the window, no timer running.
  assert.equal(a.sndBuf.length, 3);
  assert.equal(a.sndQueue.length, 7);

  // Nothing allowed: nothing sent, and the held-back segments are not counted as retransmitted.
  a.flush(false);
  assert.equal(sent.length, 3);
  assert.deepEqual(spent[1], [0, true]);

  allowance = 100;
  a.flush(false);
  assert.equal(sent.length, 10);
  assert.deepEqual(spent[2], [7, false]);
  assert.equal(a.stats.retransSegs, 0);
});
