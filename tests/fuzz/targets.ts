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
