import { deepStrictEqual } from "node:assert/strict";
import { normalize, shapeProblems } from "./shape.ts";

Deno.test("shape: normalize respells known keys, orders them as gost, keeps unknown ones after", () => {
  const out = normalize({
    Services: [{
      Listener: { Type: "tcp" },
      extra: 1,
      Handler: { type: "http", Metadata: { B: 1, a: 2 } },
      NAME: "s",
    }],
    custom: true,
  });
  deepStrictEqual(
    JSON.stringify(out),
    JSON.stringify({
      services: [{
        name: "s",
        handler: { type: "http", metadata: { B: 1, a: 2 } },
        listener: { type: "tcp" },
        extra: 1,
      }],
      custom: true,
    }),
  );
  // metadata keys are sorted only for output
  const sorted = normalize({ services: [{ handler: { metadata: { b: 1, a: 2 } } }] }, undefined, {
    sortMaps: true,
  });
  deepStrictEqual(Object.keys((sorted as any).services[0].handler.metadata), ["a", "b"]);
});

Deno.test("shape: sections must be mappings and lists lists; scalars are left alone", () => {
  deepStrictEqual(
    shapeProblems({ services: [{ handler: "http", addr: 5, metadata: [1] }], chains: {}, log: "x" }),
    [
      ["services[0].handler", 'expected a mapping, got "http"'],
      ["services[0].metadata", "expected a mapping of option names to values, got a list"],
      ["chains", "expected a list, got a mapping"],
      ["log", 'expected a mapping, got "x"'],
    ],
  );
  deepStrictEqual(shapeProblems([1]), [["(top level)", "expected a mapping, got a list"]]);
  deepStrictEqual(shapeProblems({ services: null, log: { level: 3 } }), []);
});
