import assert from "node:assert/strict";
import { Authenticator, basicCredentials, parseBasicCredentials } from "./auth.ts";

Deno.test("Authenticator: absent or empty auth needs no credentials", () => {
  assert.equal(Authenticator.from(undefined), undefined);
  assert.equal(Authenticator.from({}), undefined);
  assert.equal(Authenticator.from({ username: "", password: "" }), undefined);
});

Deno.test("Authenticator: checks username and password exactly", () => {
  const a = Authenticator.from({ username: "user", password: "pass" })!;
  assert.ok(a.check("user", "pass"));
  assert.ok(!a.check("user", "pas"));
  assert.ok(!a.check("user", "passs"));
  assert.ok(!a.check("User", "pass"));
  assert.ok(!a.check("", ""));
});

Deno.test("basic credentials: round trip and gost's header bytes", () => {
  assert.equal(basicCredentials("user", "pass"), "Basic dXNlcjpwYXNz");
  assert.deepEqual(parseBasicCredentials("Basic dXNlcjpwYXNz"), { username: "user", password: "pass" });
  assert.deepEqual(parseBasicCredentials(basicCredentials("ü", "a:b")), { username: "ü", password: "a:b" });
  assert.equal(parseBasicCredentials("Bearer x"), undefined);
  assert.equal(parseBasicCredentials("Basic !!!"), undefined);
  assert.equal(parseBasicCredentials("Basic dXNlcg=="), undefined); // no colon
});
