import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { ssKeys } from "./config.ts";

Deno.test("ssKeys: AEAD and 2022 methods; a bad 2022 key names the method and the size", () => {
  assert.equal(
    ssKeys({ username: "aes-128-gcm", password: "pw" }, "", "services[0].handler").method.name,
    "aes-128-gcm",
  );
  const key2022 = btoa(String.fromCharCode(...new Uint8Array(16).fill(7)));
  assert.equal(
    ssKeys({ username: "2022-blake3-aes-128-gcm", password: key2022 }, "", "x").method.edition,
    "2022",
  );
  assert.throws(
    () => ssKeys({ username: "2022-blake3-aes-256-gcm", password: key2022 }, "", "services[0].handler"),
    (err: unknown) =>
      err instanceof ConfigError && err.message.includes("services[0].handler.auth.password") &&
      err.message.includes("2022-blake3-aes-256-gcm needs a base64 key of 32 bytes, got 16"),
  );
  assert.throws(
    () => ssKeys({ username: "2022-blake3-aes-128-gcm", password: "not base64!" }, "", "x"),
    /2022-blake3-aes-128-gcm needs a base64 key of 16 bytes/,
  );
});
