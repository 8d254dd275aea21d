/**
 * Every fuzz target, in the order a run takes them.
 * @module
 */
import { WIRE_TARGETS } from "./targets_wire.ts";
import { cryptoTargets } from "./targets_crypto.ts";
import { CONFIG_TARGETS } from "./targets_config.ts";
import type { Target } from "./_target.ts";

/** All targets. */
export const ALL_TARGETS: Target[] = [...WIRE_TARGETS, ...cryptoTargets(), ...CONFIG_TARGETS];

/**
 * Targets with planted defects, for the harness's own test: each must be reported (a crash,
 * a hang in a promise that never settles, a hang in a loop, a huge allocation).
 */
export const SELFTEST_TARGETS: Target[] = [
  {
    name: "selftest.crash",
    seeds: () => [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
    run(b) {
      if (b.length % 5 === 3) throw new TypeError("planted crash");
      if (b.length % 5 === 1) throw new RangeError("typed rejection");
    },
    rejects: (err) => err instanceof RangeError,
  },
  {
    name: "selftest.hang",
    seeds: () => [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
    run: (b) => b.length % 7 === 4 ? new Promise<void>(() => {}) : undefined,
    rejects: () => false,
  },
  {
    name: "selftest.spin",
    seeds: () => [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
    run(b) {
      while (b.length % 7 === 4) { /* planted endless loop */ }
    },
    rejects: () => false,
  },
  {
    name: "selftest.alloc",
    seeds: () => [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
    run(b) {
      if (b.length % 5 === 2) new Uint8Array(0x7fff0000);
    },
    rejects: () => false,
  },
];
