import { deepStrictEqual, equal, throws } from "node:assert/strict";
import type { Config } from "../config/types.ts";
import {
  ApiError,
  createEntry,
  deleteEntry,
  getEntry,
  listEntries,
  parseBody,
  updateEntry,
} from "./config_ops.ts";

const base = {
  services: [{ name: "a", addr: ":1" }],
  chains: [{ name: "c", hops: [] }],
} as unknown as Config;

function apiError(fn: () => unknown, status: number, code: number, msg: RegExp | string): void {
  throws(fn, (e: unknown) => {
    if (!(e instanceof ApiError)) return false;
    equal(e.status, status);
    equal(e.code, code);
    if (typeof msg === "string") equal(e.message, msg);
    else if (!msg.test(e.message)) return false;
    return true;
  });
}

Deno.test("api config ops: create, update and delete return a new config and leave the old one alone", () => {
  const before = structuredClone(base);
  const { config: created, name } = createEntry(base, "services", { name: "  b ", addr: ":2" });
  equal(name, "b");
  deepStrictEqual(created.services?.map((s) => s.name), ["a", "b"]);
  const updated = updateEntry(created, "services", "b", { name: "ignored", addr: ":3" });
  deepStrictEqual(updated.services?.[1], { name: "b", addr: ":3" });
  const deleted = deleteEntry(updated, "chains", "c");
  equal(deleted.chains, undefined);
  deepStrictEqual(base, before);
  deepStrictEqual(listEntries(updated, "services").count, 2);
  deepStrictEqual(getEntry(updated, "services", "b"), { name: "b", addr: ":3" });
  equal(getEntry(updated, "services", "zz"), undefined);
});

Deno.test("api config ops: gost's codes for a missing name, a duplicate, an unknown name, bad JSON", () => {
  apiError(() => createEntry(base, "services", { addr: ":2" }), 400, 40001, "service name is required");
  apiError(() => createEntry(base, "chains", { name: "c" }), 400, 40002, "chain c already exists");
  apiError(() => updateEntry(base, "hops", "h", {}), 400, 40004, "hop h not found");
  apiError(() => deleteEntry(base, "services", "x"), 400, 40004, "service x not found");
  apiError(() => parseBody("{", "service"), 400, 40001, /^invalid JSON/);
  apiError(() => parseBody("[1]", "service"), 400, 40001, /JSON object/);
});
