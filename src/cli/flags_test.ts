import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { parseFlags, UsageError } from "./flags.ts";

Deno.test("flags: -L x, -L=x, --L x and --L=x are the same and repeat", () => {
  const f = parseFlags(["-L", "a", "-L=b", "--L", "c", "--L=d", "-F", "n1", "-F=n2", "-C", "x.yaml"]);
  deepStrictEqual(f.services, ["a", "b", "c", "d"]);
  deepStrictEqual(f.nodes, ["n1", "n2"]);
  deepStrictEqual(f.configs, ["x.yaml"]);
  equal(f.debug, 0);
});

Deno.test("flags: a value may contain '=' and start with '-'", () => {
  deepStrictEqual(parseFlags(["-L=http://:80?a=b"]).services, ["http://:80?a=b"]);
  deepStrictEqual(parseFlags(["-C", "-"]).configs, ["-"]);
});

Deno.test("flags: -D, -DD, -V, -h, -help, -O", () => {
  equal(parseFlags(["-D"]).debug, 1);
  equal(parseFlags(["-DD"]).debug, 2);
  equal(parseFlags(["-D", "-DD"]).debug, 2);
  equal(parseFlags(["--DD", "-D"]).debug, 2);
  equal(parseFlags(["-D=false"]).debug, 0);
  equal(parseFlags(["-V"]).version, true);
  equal(parseFlags(["-h"]).help, true);
  equal(parseFlags(["--help"]).help, true);
  equal(parseFlags(["-O", "json"]).output, "json");
  equal(parseFlags(["-O=yaml"]).output, "yaml");
});

Deno.test("flags: -api, -metrics, -R are accepted", () => {
  const f = parseFlags(["-api", ":18080", "-metrics=:9000", "-R", "10s"]);
  equal(f.api, ":18080");
  equal(f.metrics, ":9000");
  equal(f.reload, "10s");
});

Deno.test("flags: arguments after -- form groups", () => {
  deepStrictEqual(parseFlags(["-L", "a", "--", "-L", "b", "--", "-L", "c"]).groups, [["-L", "b"], [
    "-L",
    "c",
  ]]);
  deepStrictEqual(parseFlags(["-L", "a"]).groups, []);
});

Deno.test("flags: mistakes are UsageErrors naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["-X"], /flag provided but not defined: -X/],
    [["--listen", "x"], /not defined: -listen/],
    [["-l", "x"], /not defined: -l/], // flags are case-sensitive, as in Go
    [["-L"], /flag needs an argument: -L/],
    [["-F", "a", "-C"], /flag needs an argument: -C/],
    [["-O", "xml"], /invalid value "xml" for -O \(allowed: yaml, json\)/],
    [["-D=maybe"], /invalid boolean value "maybe" for -D/],
    [["---L", "x"], /bad flag syntax: ---L/],
    [["-=x"], /bad flag syntax/],
    [["http://:8080"], /unexpected argument "http:\/\/:8080"/],
    [["-L", "a", "stray"], /unexpected argument "stray"/],
  ];
  for (const [argv, re] of cases) {
    throws(
      () => parseFlags(argv),
      (e: Error) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});
