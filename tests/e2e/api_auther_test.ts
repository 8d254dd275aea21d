/**
 * `api.auther` and `metrics.auther` through the real CLI, as gost decides them: the API takes
 * the credentials of its `auth` or of the named auther, metrics the named auther instead of
 * `auth`; the auther is the running config's (changed through the API, it applies at once), and
 * a change deleting it is refused.
 */
import { equal, match } from "node:assert/strict";
import { freePort, startGost } from "../_helpers.ts";

const basic = (user: string, pass: string) => "Basic " + btoa(`${user}:${pass}`);

async function get(url: string, auth?: string, method = "GET", body?: unknown) {
  const r = await fetch(url, {
    method,
    headers: auth ? { authorization: auth } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

Deno.test({
  name: "api/metrics auther: right credentials 200, wrong 401; changed through the API it applies at once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const [apiPort, metricsPort] = [freePort(), freePort()];
    await Deno.writeTextFile(
      `${dir}/gost.yaml`,
      `authers:
  - name: ops
    auths:
      - username: ops
        password: op-pass
api:
  addr: 127.0.0.1:${apiPort}
  auth: {username: admin, password: s3cret}
  auther: ops
metrics:
  addr: 127.0.0.1:${metricsPort}
  auth: {username: admin, password: s3cret}
  auther: ops
`,
    );
    await using _g = await startGost(["-C", `${dir}/gost.yaml`], 2);
    try {
      const api = `http://127.0.0.1:${apiPort}/config`;
      const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
      equal((await get(api, basic("admin", "s3cret"))).status, 200, "the API's own auth");
      equal((await get(api, basic("ops", "op-pass"))).status, 200, "the API's named auther");
      for (const wrong of [undefined, basic("ops", "nope"), basic("admin", "op-pass")]) {
        equal((await get(api, wrong)).status, 401, `api with ${wrong}`);
      }
      const scraped = await get(metrics, basic("ops", "op-pass"));
      equal(scraped.status, 200);
      match(scraped.text, /^process_start_time_seconds /m);
      for (const wrong of [undefined, basic("ops", "nope"), basic("admin", "s3cret")]) {
        equal((await get(metrics, wrong)).status, 401, `metrics with ${wrong} (the auther replaces auth)`);
      }

      const changed = await get(`${api}/authers/ops`, basic("admin", "s3cret"), "PUT", {
        auths: [{ username: "ops", password: "new-pass" }],
      });
      equal(changed.status, 200, changed.text);
      equal((await get(metrics, basic("ops", "op-pass"))).status, 401);
      equal((await get(metrics, basic("ops", "new-pass"))).status, 200);
      equal((await get(api, basic("ops", "new-pass"))).status, 200);

      const removed = await get(`${api}/authers/ops`, basic("admin", "s3cret"), "DELETE");
      equal(removed.status, 400);
      match(removed.text, /api\.auther: no auther named \\"ops\\" in authers/);
      equal(
        (await get(metrics, basic("ops", "new-pass"))).status,
        200,
        "nothing of the refused change applied",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
