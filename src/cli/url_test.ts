import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { parseGostURL, redactPassword, URLError } from "./url.ts";

Deno.test("url: full service URL splits into its parts", () => {
  deepStrictEqual(parseGostURL("Relay+TLS://user:pa%40ss@:8443/10.0.0.1:80,:81?nodelay=true&a+b=c%20d"), {
    raw: "Relay+TLS://user:pa%40ss@:8443/10.0.0.1:80,:81?nodelay=true&a+b=c%20d",
    scheme: "relay+tls",
    user: { username: "user", password: "pa@ss" },
    host: ":8443",
    path: "/10.0.0.1:80,:81",
    query: [["nodelay", "true"], ["a b", "c d"]],
  });
});

Deno.test("url: no scheme or a leading ':' means auto", () => {
  equal(parseGostURL(":8080").scheme, "auto");
  equal(parseGostURL(":8080").host, ":8080");
  equal(parseGostURL("127.0.0.1:8080").scheme, "auto");
  equal(parseGostURL("127.0.0.1:8080").host, "127.0.0.1:8080");
});

Deno.test("url: port ranges, host lists and IPv6 stay as written", () => {
  equal(parseGostURL("tcp://:8000-8003/h:8000-8003").host, ":8000-8003");
  equal(parseGostURL("socks5://h1:1080,h2:1080").host, "h1:1080,h2:1080");
  equal(parseGostURL("http://[::1]:8080").host, "[::1]:8080");
});

Deno.test("url: the userinfo ends at the last '@' before the path", () => {
  deepStrictEqual(parseGostURL("relay://u:p@ss@:80").user, { username: "u", password: "p@ss" });
  deepStrictEqual(parseGostURL("ss://YWVzLTEyOC1nY206cGFzcw@:80").user, {
    username: "YWVzLTEyOC1nY206cGFzcw",
  });
  deepStrictEqual(parseGostURL("relay://u:@:80").user, { username: "u", password: "" });
});

Deno.test("url: repeated query keys are all kept, in order", () => {
  deepStrictEqual(parseGostURL("http://:80?a=1&a=2&b").query, [["a", "1"], ["a", "2"], ["b", ""]]);
});

Deno.test("url: a bad %-escape in the password is named, and the password is not printed", () => {
  throws(() => parseGostURL("relay://user:se%zzcret@:8080"), (e: Error) => {
    equal(e instanceof URLError, true);
    equal(e.message.includes('bad %-escape "%zz" in the password'), true, e.message);
    equal(e.message.includes("se%zzcret"), false, e.message);
    equal(e.message.includes("user:***@:8080"), true, e.message);
    return true;
  });
});

Deno.test("url: malformed parts give errors naming them", () => {
  const cases: [string, RegExp][] = [
    ["", /empty argument/],
    ["re lay://:80", /bad scheme "re lay"/],
    ["1http://:80", /bad scheme "1http"/],
    ["ht_tp://:80", /bad scheme "ht_tp"/],
    ["relay://u%g1:p@:80", /bad %-escape "%g1" in the user name/],
    ["tcp://:80/%zz", /bad %-escape "%zz" in the path/],
    ["http://:80?x=%4", /bad %-escape "%4" in the query parameter "x"/],
    ["http://:80?=v", /query parameter without a name/],
    ["http://:80#frag", /unexpected "#"/],
    ["http://exa mple:80", /white space/],
  ];
  for (const [arg, re] of cases) {
    throws(() => parseGostURL(arg), (e: Error) => e instanceof URLError && re.test(e.message), arg);
  }
});

Deno.test("url: redactPassword hides only the password", () => {
  equal(redactPassword("relay+tls://user:secret@:8443/x?y=1"), "relay+tls://user:***@:8443/x?y=1");
  equal(redactPassword("relay://user@:8443"), "relay://user@:8443");
  equal(redactPassword("tcp://:80/a@b:1"), "tcp://:80/a@b:1");
});
