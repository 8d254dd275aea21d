/**
 * curl through every proxy handler of a real CLI process: `-x http://`, `--socks4a`,
 * `--socks5-hostname`, with and without auth, against the plain handlers, the auto handler
 * and a relay chain (the relay seed's `-L :8080 -F relay://user:pass@:12345`).
 */
import assert from "node:assert/strict";
import { freePorts, httpServer, peerTest, startGost } from "../_helpers.ts";

/** An origin server answering "origin:<path>"; 1 MiB for /big. */
function origin() {
  const big = new Uint8Array(1 << 20).fill(97);
  return httpServer((req) => {
    const path = new URL(req.url).pathname;
    return new Response(path === "/big" ? big : `origin:${path}`);
  });
}

async function curl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "10", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout), err: new TextDecoder().decode(r.stderr) };
}

peerTest(
  "curl: http, socks4a, socks5-hostname through our handlers, with and without auth",
  ["curl"],
  async () => {
    const o = origin();
    const [hp, hap, s4, s5, s5a, ap] = freePorts(6);
    const g = await startGost([
      "-L",
      `http://127.0.0.1:${hp}`,
      "-L",
      `http://user:pass@127.0.0.1:${hap}`,
      "-L",
      `socks4a://127.0.0.1:${s4}`,
      "-L",
      `socks5://127.0.0.1:${s5}`,
      "-L",
      `socks5://user:pass@127.0.0.1:${s5a}`,
      "-L",
      `127.0.0.1:${ap}`,
    ], 6);
    try {
      // localhost names the origin so that the proxy resolves it (socks4a / socks5-hostname).
      const url = (p: string) => `http://localhost:${o.port}${p}`;
      const ok = async (args: string[], path: string) => {
        const r = await curl(...args, url(path));
        assert.equal(r.code, 0, `curl ${args.join(" ")}: ${r.err}`);
        assert.equal(r.out, `origin:${path}`);
      };
      await ok(["-x", `http://127.0.0.1:${hp}`], "/plain");
      await ok(["-p", "-x", `http://127.0.0.1:${hp}`], "/tunnel"); // CONNECT
      await ok(["-x", `http://user:pass@127.0.0.1:${hap}`], "/auth");
      await ok(["-p", "-x", `http://user:pass@127.0.0.1:${hap}`], "/auth-tunnel");
      await ok(["--socks4a", `127.0.0.1:${s4}`], "/s4a");
      await ok(["--socks5-hostname", `127.0.0.1:${s5}`], "/s5");
      await ok(["--socks5-hostname", `127.0.0.1:${s5a}`, "--proxy-user", "user:pass"], "/s5auth");
      await ok(["-x", `http://127.0.0.1:${ap}`], "/auto-http");
      await ok(["--socks4a", `127.0.0.1:${ap}`], "/auto-s4a");
      await ok(["--socks5-hostname", `127.0.0.1:${ap}`], "/auto-s5");
      // keep-alive: two URLs on one connection
      const two = await curl("-x", `http://127.0.0.1:${hp}`, url("/a"), url("/b"));
      assert.equal(two.out, "origin:/aorigin:/b");
      // a request body with Expect: 100-continue goes through without curl's 1 s wait
      const t0 = Date.now();
      const post = await curl(
        "-x",
        `http://127.0.0.1:${hp}`,
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "x".repeat(2000),
        url("/post"),
      );
      assert.equal(post.out, "origin:/post");
      assert.ok(Date.now() - t0 < 900, `POST took ${Date.now() - t0} ms`);
      // a bigger body
      const big = await curl(
        "-x",
        `http://127.0.0.1:${hp}`,
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        url("/big"),
      );
      assert.equal(big.out, String(1 << 20));

      // refusals: 407 for http, auth failure for socks5
      const noauth = await curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-x",
        `http://127.0.0.1:${hap}`,
        url("/x"),
      );
      assert.equal(noauth.out, "407");
      const wrong = await curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-x",
        `http://user:nope@127.0.0.1:${hap}`,
        url("/x"),
      );
      assert.equal(wrong.out, "407");
      const s5wrong = await curl(
        "--socks5-hostname",
        `127.0.0.1:${s5a}`,
        "--proxy-user",
        "user:nope",
        url("/x"),
      );
      assert.notEqual(s5wrong.code, 0);
      assert.doesNotMatch(g.stderr(), /nope/);
    } finally {
      await g.stop();
      await o.close();
    }
  },
);

peerTest(
  "curl: the relay seed -L :8080 -F relay://username:password@:12345?nodelay=false",
  ["curl"],
  async () => {
    const o = origin();
    const [rp, ap] = freePorts(2);
    const server = await startGost(["-L", `relay://username:password@127.0.0.1:${rp}`]);
    const client = await startGost([
      "-L",
      `127.0.0.1:${ap}`,
      "-F",
      `relay://username:password@127.0.0.1:${rp}?nodelay=false`,
    ]);
    try {
      for (const args of [["-x", `http://127.0.0.1:${ap}`], ["--socks5-hostname", `127.0.0.1:${ap}`]]) {
        const r = await curl(...args, `http://localhost:${o.port}/via-relay`);
        assert.equal(r.out, "origin:/via-relay", r.err);
      }
    } finally {
      await client.stop();
      await server.stop();
      await o.close();
    }
  },
);
