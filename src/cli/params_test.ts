import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { intParam, Params, takeAuth, takeSelector, takeTLSFiles } from "./params.ts";
import { parseGostURL } from "./url.ts";

Deno.test("params: the first value of a key wins; lookups ignore case, deletions do not", () => {
  const p = new Params([["Strategy", "rand"], ["strategy", "fifo"], ["strategy", "hash"]]);
  equal(p.string("STRATEGY"), "rand");
  p.delete("STRATEGY");
  equal(p.map.size, 2, "deletion is by exact key, as gost deletes from its map");
  p.delete("Strategy");
  equal(p.string("strategy"), "fifo");
});

Deno.test("params: gost's empty-is-zero integers, and errors naming the key", () => {
  const url = parseGostURL("socks5://h:1?so_mark=&retries=3&x=y");
  const p = new Params(url.query);
  deepStrictEqual([intParam(url, p, "so_mark"), intParam(url, p, "retries"), intParam(url, p, "none")], [
    0,
    3,
    0,
  ]);
  throws(() => intParam(url, p, "x"), /x=y: expected an integer/);
});

Deno.test("params: a selector only when one of its keys is given, then with gost's CLI defaults", () => {
  const none = parseGostURL("socks5://h:1?foo=1");
  equal(takeSelector(none, new Params(none.query)), undefined);
  const url = parseGostURL("socks5://h:1?max_fails=2&foo=1");
  const p = new Params(url.query);
  deepStrictEqual(takeSelector(url, p), { strategy: "round", maxFails: 2, failTimeout: "30s" });
  deepStrictEqual([...p.map.keys()], ["foo"]);
});

Deno.test("params: auth from the user part, SIP002 for ss, or ?auth=; TLS files taken out", () => {
  const plain = parseGostURL("http://u:p@h:1?auth=eDp5");
  deepStrictEqual(takeAuth(plain, new Params(plain.query)), { username: "u", password: "p" });
  const sip = parseGostURL("ss://YWVzLTEyOC1nY206cGFzcw@h:1");
  deepStrictEqual(takeAuth(sip, new Params(sip.query)), { username: "aes-128-gcm", password: "pass" });
  const query = parseGostURL("http://h:1?auth=eDp5");
  deepStrictEqual(takeAuth(query, new Params(query.query)), { username: "x", password: "y" });
  const p = new Params([["cert", "c.pem"], ["tls.keyFile", "k.pem"], ["other", "1"]]);
  deepStrictEqual(takeTLSFiles(p), { certFile: "c.pem", keyFile: "k.pem" });
  deepStrictEqual([...p.map.keys()], ["other"]);
});
