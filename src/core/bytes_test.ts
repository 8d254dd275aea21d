import assert from "node:assert/strict";
import { concat } from "./bytes.ts";

Deno.test("concat: parts in order, empty parts and no parts", () => {
  assert.deepEqual(
    concat([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]),
    Uint8Array.of(1, 2, 3),
  );
  assert.deepEqual(concat([]), new Uint8Array(0));
  const a = Uint8Array.of(9);
  const out = concat([a]);
  out[0] = 0;
  assert.equal(a[0], 9, "a new array, not a view of the input");
});
