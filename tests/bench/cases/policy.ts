/**
 * Policy cost (issue 15): the "http proxy" path of proxy.ts with a 10,000-entry bypass and a
 * 10,000-entry admission list on the proxy, beside the same proxy without them. The lists mix
 * every kind (IPs, CIDRs, ranges, names, .domains, *.domains) and match neither the client
 * (127.0.0.1) nor the target, so every connection is checked against both and let through.
 * The lists live in files (a URL would not hold them); the config is given inline with `-C`.
 * @module
 */
import type { BenchCase } from "../types.ts";

/** Writes a list file at a fixed temporary path (rewritten, not piled up, by each bench run). */
function listFile(name: string, lines: string[]): string {
  const path = `${Deno.env.get("TMPDIR") ?? "/tmp"}/gost-bench-policy-${name}.txt`;
  Deno.writeTextFileSync(path, lines.join("\n") + "\n");
  return path;
}

function bypassLines(n: number): string[] {
  const kinds = [
    (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`,
    (i: number) => `172.${16 + (i & 15)}.${(i >> 4) & 255}.0/24`,
    (i: number) => `host${i}.example.com`,
    (i: number) => `.d${i}.example.org`,
    (i: number) => `*.s${i}.example.net:443`,
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length](i));
}

function admissionLines(n: number): string[] {
  const kinds = [
    (i: number) => `10.${(i >> 8) & 255}.${i & 255}.9`,
    (i: number) => `192.168.${i & 255}.0/28`,
    (i: number) => `11.${(i >> 8) & 255}.${i & 255}.1-11.${(i >> 8) & 255}.${i & 255}.9`,
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length](i));
}

const policyConfig = () =>
  JSON.stringify({
    services: [{
      name: "proxy",
      addr: "127.0.0.1:$P1",
      bypass: "big-bypass",
      admission: "big-admission",
      handler: { type: "http" },
      listener: { type: "tcp" },
    }],
    bypasses: [{ name: "big-bypass", file: { path: listFile("bypass", bypassLines(10_000)) } }],
    admissions: [{ name: "big-admission", file: { path: listFile("admission", admissionLines(10_000)) } }],
  });

export const cases: BenchCase[] = [
  {
    name: "http proxy, no policy",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "http://127.0.0.1:$P1"],
      ["-L", "http://127.0.0.1:$P1"],
    ],
    measure: ["connRate"],
  },
  {
    name: "http proxy, 10k bypass + 10k admission",
    gost: [
      ["-L", "tcp://127.0.0.1:$ENTRY/127.0.0.1:$TARGET", "-F", "http://127.0.0.1:$P1"],
      ["-C", policyConfig()],
    ],
    measure: ["connRate"],
  },
];
