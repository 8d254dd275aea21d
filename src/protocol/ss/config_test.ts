import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { ssKeys, ssuKeys } from "./config.ts";

Deno.test("ssuKeys: AEAD methods pass, 2022 methods are a ConfigError at auth.username", () => {
  assert.equal(
    ssuKeys({ username: "aes-128-gcm", password: "pw" }, "", "services[0].handler").method.name,
    "aes-128-gcm",
  );
  const key2022 = btoa(String.fromCharCode(...new Uint8Array(16).fill(7)));
  assert.equal(
    ssKeys({ username: "2022-blake3-aes-128-gcm", password: key2022 }, "", "x").method.edition,
    "2022",
  );
  assert.throws(
    () => ssuKeys({ username: "2022-blake3-aes-128-gcm", password: key2022 }, "", "services[0].handler"),
    (err: unknown) =>
      err instanceof ConfigError && err.message.includes("services[0].handler.auth.username") &&
      err.message.includes("2022 UDP"),
  );
});
