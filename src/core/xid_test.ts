import assert from "node:assert/strict";
import { encodeXid, newXid } from "./xid.ts";

Deno.test("xid: encodes like github.com/rs/xid (its documented example id)", () => {
  const id = Uint8Array.from([0x4d, 0x88, 0xe1, 0x5b, 0x60, 0xf4, 0x86, 0xe4, 0x28, 0x41, 0x2d, 0xc9]);
  assert.equal(encodeXid(id), "9m4e2mr0ui3e8a215n4g");
});

Deno.test("xid: new ids are 20 base32hex characters, distinct, and sort by time", () => {
  const ids = Array.from({ length: 1000 }, () => newXid());
  for (const id of ids) assert.match(id, /^[0-9a-v]{20}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(newXid(Date.UTC(2030, 0)) > newXid(Date.UTC(2026, 0)));
});
