import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { fileLines, LimitError, parseBytes, parseCountLimit, parseTrafficLimit } from "./limits.ts";
import { isAddressScope } from "./ip_table.ts";

const traffic = (l: string) => parseTrafficLimit(l, isAddressScope);

Deno.test("limits: byte units are gost's (1024-based, case-sensitive, KB = KiB)", () => {
  equal(parseBytes("100B"), 100);
  equal(parseBytes("1KB"), 1024);
  equal(parseBytes("1KiB"), 1024);
  equal(parseBytes("1MB"), 1024 ** 2);
  equal(parseBytes("2GB"), 2 * 1024 ** 3);
  equal(parseBytes("1TB"), 1024 ** 4);
  equal(parseBytes("1.5MB"), 1.5 * 1024 ** 2);
  equal(parseBytes(".5KB"), 512);
  equal(parseBytes("1MB512KB"), 1024 ** 2 + 512 * 1024);
  equal(parseBytes("+1KB"), 1024);
  equal(parseBytes("-1KB"), -1024);
  equal(parseBytes("0"), 0);
  // gost rejects these (and then leaves the direction unlimited): no unit, SI "kB", lower case, mixed families.
  for (const bad of ["100", "1kB", "1mb", "1 MB", "MB", "1MiB512KB", "", "1.2.3KB", "1XB"]) {
    equal(parseBytes(bad), null, bad);
  }
});

Deno.test("limits: traffic lines: scope, in, optional out; 0 and negative mean no limit", () => {
  deepStrictEqual(traffic("$ 1MB 2MB"), { scope: "$", in: 1048576, out: 2097152 });
  deepStrictEqual(traffic("$$ 10MB"), { scope: "$$", in: 10485760, out: 0 });
  deepStrictEqual(traffic("  192.168.1.1\t512KB   1MB "), { scope: "192.168.1.1", in: 524288, out: 1048576 });
  deepStrictEqual(traffic("192.168.0.0/16 0 5MB"), { scope: "192.168.0.0/16", in: 0, out: 5242880 });
  deepStrictEqual(traffic("::1 -1KB 1KB"), { scope: "::1", in: 0, out: 1024 });
  deepStrictEqual(traffic("2001:db8::/32 1KB"), { scope: "2001:db8::/32", in: 1024, out: 0 });
  equal(traffic("   "), null);
});

Deno.test("limits: lines gost would skip (leaving clients unlimited) are errors", () => {
  for (
    const [line, why] of [
      ["$", /expected SCOPE IN \[OUT\]/],
      ["$ 1MB 1MB 1MB", /expected SCOPE IN \[OUT\]/],
      ["$ 100 100", /input rate "100" is not a byte quantity/],
      ["$ 1MB 1mb", /output rate "1mb"/],
      ["example.com 1MB", /unknown scope "example.com"/],
      ["10.0.0.1:80 1MB", /unknown scope/],
      ["10.0.0.0/33 1MB", /unknown scope/],
      ["$$$ 1MB", /unknown scope/],
    ] as const
  ) {
    throws(() => traffic(line), (e: Error) => e instanceof LimitError && why.test(e.message), line);
  }
});

Deno.test("limits: climiter lines take a whole number, rlimiter lines a rate", () => {
  deepStrictEqual(parseCountLimit("$ 1000", "climiter", isAddressScope), { scope: "$", limit: 1000 });
  deepStrictEqual(parseCountLimit("10.0.0.0/8 5", "climiter", isAddressScope), {
    scope: "10.0.0.0/8",
    limit: 5,
  });
  deepStrictEqual(parseCountLimit("$$ 0.5", "rlimiter", isAddressScope), { scope: "$$", limit: 0.5 });
  deepStrictEqual(parseCountLimit("1.2.3.4 20", "rlimiter", isAddressScope), { scope: "1.2.3.4", limit: 20 });
  equal(parseCountLimit("", "climiter", isAddressScope), null);
  for (const line of ["$ 1.5", "$ 0", "$ -3", "$ x", "$", "$ 1 2", "host 3"]) {
    throws(() => parseCountLimit(line, "climiter", isAddressScope), LimitError, line);
  }
  for (const line of ["$ 0", "$ abc", "$ 1e999", "$ -1"]) {
    throws(() => parseCountLimit(line, "rlimiter", isAddressScope), LimitError, line);
  }
});

Deno.test("limits: a file's lines skip comments and blanks and keep their numbers", () => {
  deepStrictEqual(fileLines("# ip in out\n\n$ 1MB  2MB # service\r\n  $$ 10MB\n#x\n"), [
    { line: 3, text: "$ 1MB  2MB" },
    { line: 4, text: "$$ 10MB" },
  ]);
});
