import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { DEFAULT_KCP_CONFIG, kcpOptions, resolveKcpConfig } from "./config.ts";

const resolve = (md: Record<string, unknown>) => resolveKcpConfig(md, kcpOptions.parse(md, "l"), "l");

Deno.test("kcp config: defaults pair with real gost (empty key, aes, FEC 10/3, snappy, smux v1, fast)", () => {
  const c = resolve({});
  assert.equal(c.key, "");
  assert.equal(c.crypt, "aes");
  assert.deepEqual([c.datashard, c.parityshard, c.nocomp, c.smuxver], [10, 3, false, 1]);
  assert.deepEqual([c.nodelay, c.interval, c.resend, c.nc], [0, 30, 2, 1]);
});

Deno.test("kcp config: a config file's values are honoured; single kcp.* options given win", () => {
  const file = Deno.makeTempFileSync({ suffix: ".json" });
  try {
    Deno.writeTextFileSync(
      file,
      JSON.stringify({ key: "from-file", crypt: "salsa20", mtu: 1200, mode: "fast3" }),
    );
    const c = resolve({ c: file });
    assert.deepEqual([c.key, c.crypt, c.mtu, c.interval], ["from-file", "salsa20", 1200, 10]);
    const d = resolve({ configFile: file, "kcp.crypt": "none", "KCP.MTU": "1000" });
    assert.deepEqual([d.key, d.crypt, d.mtu], ["from-file", "none", 1000]);
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("kcp config: bad values name the key; missing file, fake TCP and half FEC are errors", () => {
  assert.throws(
    () => resolve({ "kcp.crypt": "rot13" }),
    (e: Error) => e instanceof ConfigError && /kcp\.crypt/.test(e.message),
  );
  assert.throws(() => resolve({ "kcp.mtu": "abc" }), /l\.kcp\.mtu/);
  assert.throws(() => resolve({ c: "/nonexistent/kcp.json" }), /cannot read/);
  assert.throws(() => resolve({ "kcp.tcp": "true" }), /not supported/);
  assert.throws(() => resolve({ "kcp.datashard": "0" }), /both/);
  assert.equal(resolve({ "kcp.mode": "manual", "kcp.interval": "77" }).interval, 77);
  assert.equal(DEFAULT_KCP_CONFIG.sndwnd, 1024);
});
