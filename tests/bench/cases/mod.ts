/**
 * Every benchmark case, one import per area.
 * @module
 */
import type { BenchCase } from "../types.ts";
import { cases as forward } from "./forward.ts";
import { cases as kcp } from "./kcp.ts";
import { cases as mux } from "./mux.ts";
import { cases as policy } from "./policy.ts";
import { cases as proxy } from "./proxy.ts";
import { cases as remote } from "./remote.ts";
import { cases as ss } from "./ss.ts";
import { cases as tlsWs } from "./tls_ws.ts";

export const allCases: BenchCase[] = [
  ...forward,
  ...kcp,
  ...mux,
  ...proxy,
  ...policy,
  ...remote,
  ...ss,
  ...tlsWs,
];
