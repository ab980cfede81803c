/**
 * The boundary of a local-mode control plane: nobody gets in without a credential (loopback is not
 * one: every process on the machine reaches it), other sites cannot drive it through the operator's
 * signed-in browser (CSRF), and other host names cannot read it (DNS rebinding). Requests are sent
 * raw, with the headers a browser or a script would send.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tasks } from "@/db/schema";
import { newSignInToken, readLocalToken } from "@/lib/auth/local";
import { makeRepo } from "../harness/git";
import { describeNeedingRoot } from "../harness/needs-root";
import { untilFinished } from "../harness/live-client";
import { sharedTempDir } from "../harness/shared-dir";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => system?.stop());

type RawAnswer = { status: number; body: string; location?: string; setCookie?: string };

/** A request with exactly these headers (fetch would not let a test set Host). `statusOnly` leaves a stream unread. */
function raw(method: string, pathname: string, headers: Record<string, string>, body?: string, statusOnly = false) {
  const url = new URL(pathname, system.appUrl);
  return new Promise<RawAnswer>((resolve, reject) => {
    const request = http.request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }) } }, (response) => {
      const head = { status: response.statusCode!, location: response.headers.location, setCookie: response.headers["set-cookie"]?.[0] };
      if (statusOnly) {
        resolve({ ...head, body: "" });
        return void request.destroy();
      }
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ ...head, body: text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

const taskCount = async () => (await system.database.db.select({ id: tasks.id }).from(tasks)).length;

/** Opens a one-time sign-in link as a browser would: its answer (a redirect) and the session cookie it set, if any. */
async function openSignInLink(link: string, host = new URL(system.appUrl).host) {
  const url = new URL(link);
  const answer = await raw("GET", url.pathname + url.search, { host, "sec-fetch-site": "none" });
  return { ...answer, cookie: answer.setCookie?.split(";")[0] };
}

/** A browser's session: the cookie a fresh one-time link (as `npm start` prints) set. */
async function browserCookie() {
  const { cookie } = await openSignInLink(system.signInUrl());
  if (!cookie) throw new Error("the sign-in link set no cookie");
  return cookie;
}

describe("local mode", () => {
  it("refuses a cross-site request that would start a task through the signed-in browser, and starts nothing", async () => {
    const before = await taskCount();
    const cookie = await browserCookie();
    const body = JSON.stringify({ repository: makeRepo(), prompt: "Sent by another site" });
    const host = new URL(system.appUrl).host;
    const forged = await raw("POST", "/api/tasks", { host, cookie, "content-type": "text/plain", origin: "http://evil.example", "sec-fetch-site": "cross-site" }, body);
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body)).toMatchObject({ field: "origin" });
    // JSON too (a page on another port of this machine is the same site, so SameSite lets the cookie through).
    for (const origin of ["http://evil.example", `http://127.0.0.1:${Number(new URL(system.appUrl).port) + 1}`]) {
      const sameSite = await raw("POST", "/api/tasks", { host, cookie, "content-type": "application/json", origin, "sec-fetch-site": "same-site" }, body);
      expect(sameSite.status, origin).toBe(403);
      expect(JSON.parse(sameSite.body), origin).toMatchObject({ field: "origin" });
    }
    const fetchedCrossSite = await raw("POST", "/api/tasks", { host, cookie, "content-type": "application/json", "sec-fetch-site": "cross-site" }, body);
    expect(fetchedCrossSite.status).toBe(403);
    expect(JSON.parse(fetchedCrossSite.body)).toMatchObject({ field: "sec-fetch-site" });

    // Without the Origin (an old browser, a form): still not JSON, still refused.
    const asText = await raw("POST", "/api/tasks", { host, cookie, "content-type": "text/plain" }, body);
    expect(asText.status).toBe(415);
    expect(JSON.parse(asText.body)).toMatchObject({ field: "content-type" });
    expect(await taskCount()).toBe(before);

    // A script's JSON request with the local token goes through; so does the app's own page's, with its cookie.
    expect((await raw("POST", "/api/tasks", { host, ...system.authHeaders, "content-type": "application/json" }, body)).status).toBe(202);
    const own = await raw("POST", "/api/tasks", { host, cookie, "content-type": "application/json", origin: system.appUrl, "sec-fetch-site": "same-origin" }, body);
    expect(own.status).toBe(202);
    expect(await taskCount()).toBe(before + 2);
  });

  it("refuses a task on the control plane's own checkout or its data directory, naming the field", async () => {
    const before = await taskCount();
    for (const repository of [process.cwd(), `file://${process.cwd()}`, `${system.dataDir}/nodes`]) {
      const { status, body } = await system.api("POST", "/api/tasks", { repository, prompt: "Push into the control plane" });
      expect(status, repository).toBe(422);
      expect(body, repository).toMatchObject({ field: "repository", error: expect.stringMatching(/^repository may not be inside the control plane's/) });
    }
    expect(await taskCount()).toBe(before);
  });

  it("has no API tokens: there is no sign-in for them to stand in for", async () => {
    const { status, body } = await system.api("POST", "/api/tokens", { name: "ci" });
    expect(status).toBe(409);
    expect(body.error).toMatch(/local mode has no API tokens/);
  });

  it("answers only to localhost names, on pages, the API and live streams (DNS rebinding)", async () => {
    const port = new URL(system.appUrl).port;
    // Signed in as the browser on localhost (its cookies are that name's), and with the script's token.
    const { cookie } = await openSignInLink(system.signInUrl(), `localhost:${port}`);
    for (const pathname of ["/", "/api/tasks", "/api/events", "/nodes"]) {
      const rebound = await raw("GET", pathname, { host: `evil.example:${port}`, cookie: cookie!, ...system.authHeaders });
      expect(rebound.status, pathname).toBe(403);
      expect(JSON.parse(rebound.body), pathname).toMatchObject({ field: "host" });
      expect((await raw("GET", pathname, { host: `localhost:${port}`, cookie: cookie! }, undefined, true)).status, pathname).toBe(200);
    }
  });

  it("still takes the vm-agents' bearer-authenticated callbacks and the engine's calls, without the local credential", async () => {
    const host = new URL(system.appUrl).host;
    // A callback with a bad token is refused by its own check (401), not by the guard.
    const callback = await raw("POST", "/api/workspaces/w_x/ready", { host, authorization: "Bearer not-a-token", "content-type": "text/plain" }, "{}");
    expect(callback.status).toBe(401);
    // The engine's registration call has no body and no Origin.
    expect((await raw("PUT", "/api/inngest", { host })).status).toBe(200);
  });
});

describe("local mode's credentials", () => {
  const host = () => new URL(system.appUrl).host;
  let taskId: string;

  beforeAll(async () => {
    // A finished task, so each route family has something real to answer about.
    const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "Something to read" });
    expect(status, JSON.stringify(body)).toBe(202);
    taskId = (body as { taskId: string }).taskId;
    expect((await untilFinished(system, taskId, 90_000)).done.status).toBe("completed");
  }, 120_000);

  /** Every route family a person (or their script) calls: reads, streams, downloads, and changes. */
  const routes = (): { method: string; path: string; body?: string; stream?: boolean }[] => [
    { method: "GET", path: "/api/me" },
    { method: "GET", path: "/api/tasks" },
    { method: "GET", path: `/api/tasks/${taskId}` },
    { method: "GET", path: `/api/tasks/${taskId}/diff` },
    { method: "GET", path: `/api/tasks/${taskId}/output` },
    { method: "GET", path: `/api/tasks/${taskId}/output?format=text` },
    { method: "GET", path: "/api/events", stream: true },
    { method: "GET", path: `/api/tasks/${taskId}/events`, stream: true },
    { method: "GET", path: "/api/nodes" },
    { method: "GET", path: "/api/nodes/events", stream: true },
    { method: "GET", path: "/api/errors" },
    { method: "GET", path: "/api/errors/events", stream: true },
    { method: "GET", path: "/api/secrets" },
    { method: "GET", path: `/api/repositories/branches?repository=${encodeURIComponent(makeRepo())}` },
    { method: "POST", path: "/api/tasks", body: JSON.stringify({ repository: makeRepo(), prompt: "Needs a credential" }) },
    { method: "POST", path: `/api/tasks/${taskId}/messages`, body: JSON.stringify({ body: "Needs a credential" }) },
    { method: "POST", path: `/api/tasks/${taskId}/cancel`, body: "{}" },
    { method: "POST", path: `/api/tasks/${taskId}/retry`, body: "{}" },
    { method: "POST", path: `/api/tasks/${taskId}/finish`, body: "{}" },
    { method: "POST", path: `/api/tasks/${taskId}/push`, body: "{}" },
    { method: "POST", path: `/api/tasks/${taskId}/discard`, body: "{}" },
    { method: "POST", path: "/api/nodes/n_00000000/destroy", body: "{}" },
    { method: "PUT", path: "/api/secrets/OPENAI_API_KEY", body: JSON.stringify({ value: "sk-needs-a-credential" }) },
    { method: "DELETE", path: "/api/secrets/OPENAI_API_KEY" },
    { method: "GET", path: "/api/tokens" },
    { method: "POST", path: "/api/tokens", body: JSON.stringify({ name: "ci" }) },
    { method: "DELETE", path: "/api/tokens/tok_x" },
    { method: "POST", path: "/api/machines/registrations", body: "{}" },
  ];
  /** `open`: a stream let in is left unread (a refused one ends at once, with its reason). */
  const send = (route: ReturnType<typeof routes>[number], headers: Record<string, string>, open = false) =>
    raw(route.method, route.path, { host: host(), ...(route.body === undefined ? {} : { "content-type": "application/json" }), ...headers }, route.body, open && route.stream);

  it("answers 401 on every route, stream and download without a credential, or with a wrong one, and changes nothing", async () => {
    const before = await taskCount();
    const wrong: Record<string, string>[] = [{}, { authorization: "Bearer acpl_not-the-token" }, { authorization: `Bearer ${readLocalToken(system.dataDir)}x` }, { cookie: `acp_session_${new URL(system.appUrl).port}=acps_forged` }];
    for (const route of routes()) {
      for (const headers of wrong) {
        const answer = await send(route, headers);
        const what = `${route.method} ${route.path} with ${JSON.stringify(headers)}: ${answer.body.slice(0, 200)}`;
        expect(answer.status, what).toBe(401);
        expect(JSON.parse(answer.body), what).toMatchObject({ field: "authorization" });
      }
    }
    expect(await taskCount()).toBe(before);
    const { body: secrets } = await system.api("GET", "/api/secrets");
    expect(secrets.secrets).toEqual([]);
    // The refusal says how to get in.
    expect(JSON.parse((await send(routes()[0]!, {})).body).error).toMatch(/npm run admin -- sign-in-url.*DATA_DIR\/local-token/);
  });

  it("lets in the local token (scripts) and the cookie a one-time link set (the browser) on every route", async () => {
    const cookie = await browserCookie();
    for (const [credential, headers] of [
      ["token", system.authHeaders],
      ["cookie", { cookie }],
    ] as const) {
      for (const route of routes()) {
        const answer = await send(route, headers, true);
        const what = `${route.method} ${route.path} with the ${credential}: ${answer.body.slice(0, 200)}`;
        // In: what the route itself answers (a finished task cannot be cancelled: 409; local mode has no API tokens: 409).
        expect(answer.status, what).not.toBe(401);
        expect(answer.status, what).toBeLessThan(500);
        if (route.method === "GET" && !route.path.startsWith("/api/tokens")) expect(answer.status, what).toBe(200);
      }
      expect(JSON.parse((await send(routes()[0]!, headers)).body)).toMatchObject({ mode: "local", user: { id: "local" }, via: credential === "token" ? "local" : "session" });
    }
  });

  it("signs a browser in once per link: the printed link sets an HttpOnly, SameSite=Strict cookie and goes on; used again, expired or forged it is refused", async () => {
    const link = system.signInUrl("/nodes");
    const first = await openSignInLink(link);
    expect(first.status).toBe(303);
    expect(first.location).toBe("/nodes");
    expect(first.setCookie).toMatch(new RegExp(`^acp_session_${new URL(system.appUrl).port}=acps_[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800$`));
    expect((await raw("GET", "/api/tasks", { host: host(), cookie: first.cookie! })).status).toBe(200);

    const again = await openSignInLink(link);
    expect(again.status).toBe(303);
    expect(again.location).toBe("/sign-in?error=used&next=%2Fnodes");
    expect(again.setCookie).toBeUndefined();

    const token = readLocalToken(system.dataDir)!;
    const expired = await openSignInLink(`${system.appUrl}/sign-in?token=${newSignInToken(token, 0)}`);
    expect(expired.location).toBe("/sign-in?error=expired&next=%2F");
    expect(expired.setCookie).toBeUndefined();
    const forged = await openSignInLink(`${system.appUrl}/sign-in?token=${newSignInToken("acpl_a-guess", 60_000)}`);
    expect(forged.location).toBe("/sign-in?error=invalid&next=%2F");
    expect(forged.setCookie).toBeUndefined();
    // `next` stays on this site.
    expect((await openSignInLink(system.signInUrl("//evil.example/x"))).location).toBe("/");
  });

  it("sends a browser without a session from every page to the sign-in page, which needs none", async () => {
    const cookie = await browserCookie();
    for (const page of ["/", "/nodes", "/errors", "/settings", `/tasks/${taskId}`]) {
      const away = await raw("GET", page, { host: host() }, undefined, true);
      expect(away.status, page).toBe(307);
      // On the host name the browser used (Next.js sends a same-origin redirect as a path).
      expect(new URL(away.location!, system.appUrl).href, page).toBe(`${system.appUrl}/sign-in?next=${encodeURIComponent(page)}`);
      expect((await raw("GET", page, { host: host(), cookie }, undefined, true)).status, page).toBe(200);
    }
    expect((await raw("GET", "/sign-in?next=%2Fnodes", { host: host() })).status).toBe(200);
  });

  it("keeps open what has its own credential or none to give: health, the vm-agent's downloads, node and machine enrollment, callbacks, the engine", async () => {
    expect((await raw("GET", "/api/health", { host: host() })).status).toBe(200);
    expect((await raw("GET", "/api/vm-agent/manifest", { host: host() })).status).toBe(200);
    const json = { host: host(), "content-type": "application/json" };
    // Each refuses by its own check, not for want of the local credential.
    for (const [pathname, body] of [
      ["/api/machines/register", JSON.stringify({ token: "acpm_unknown" })],
      ["/api/nodes/n_00000000/enroll", JSON.stringify({ token: "acpe_unknown" })],
      ["/api/workspaces/w_x/ready", "{}"],
      ["/api/nodes/n_00000000/heartbeat", "{}"],
    ] as const) {
      const answer = await raw("POST", pathname, json, body);
      expect(answer.status, `${pathname}: ${answer.body}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${pathname}: ${answer.body}`).toBeLessThan(500);
      expect(answer.body, pathname).not.toMatch(/sign-in-url/);
    }
    // The dev engine's calls are unsigned (inngest dev v1.1.0 cannot sign): this machine's processes reach it (README, "Modes").
    expect((await raw("PUT", "/api/inngest", { host: host() })).status).toBe(200);
  });
});

describeNeedingRoot("a repository's setup script on a local node run as root", () => {
  it("runs as its workspace's own user, who cannot read the control plane's data (the Tried line: it was uid=0(root))", async () => {
    // A stored secret makes the key file the setup script will try to read.
    expect((await system.api("PUT", "/api/secrets/ANTHROPIC_API_KEY", { value: "sk-ant-boundary" })).status).toBe(200);
    const keyFile = path.join(system.dataDir, "secrets.keys");
    expect(fs.existsSync(keyFile)).toBe(true);
    const out = sharedTempDir("acp-setup-probes-");
    const data = system.dataDir;
    const probe = (name: string, command: string) => `if ${command} >/dev/null 2>&1; then echo ${name}:ok; else echo ${name}:denied; fi`;
    const setup = [
      "{",
      "id",
      probe("key-file", `cat '${keyFile}'`),
      probe("data-folder", `ls '${data}'`),
      probe("nodes-folder", `ls '${path.join(data, "nodes")}'`),
      probe("node-records", `cat '${data}'/nodes/*/node.json`),
      probe("node-logs", `cat '${data}'/nodes/*/vm-agent.log`),
      probe("runner-logs", `ls '${path.join(data, "logs")}'`),
      probe("own-worktree", "touch SETUP_WAS_HERE"),
      `} > '${out}/probes'`,
    ].join("\n");
    const repo = makeRepo({ ".agent/setup.sh": `${setup}\n` });
    const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Who am I?" });
    expect(status, JSON.stringify(body)).toBe(202);
    const { done } = await untilFinished(system, (body as { taskId: string }).taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    const [id, ...probes] = fs.readFileSync(path.join(out, "probes"), "utf8").trim().split("\n");
    expect(id).toMatch(/^uid=(\d+)\((acp[0-9a-f]{12})\) gid=\d+\(\2\) groups=\d+\(\2\)$/);
    expect(id).not.toMatch(/^uid=0\(/);
    expect(Object.fromEntries(probes.map((line) => line.split(":")))).toEqual({
      "key-file": "denied",
      "data-folder": "denied",
      "nodes-folder": "denied",
      "node-records": "denied",
      "node-logs": "denied",
      "runner-logs": "denied",
      "own-worktree": "ok",
    });
  }, 120_000);

  it("cannot read the local token and cannot reach any route on loopback: its proxy refuses the control plane (the Tried line: 200s and a task started)", async () => {
    const before = await taskCount();
    const out = sharedTempDir("acp-api-probes-");
    const app = system.appUrl;
    const token = path.join(system.dataDir, "local-token");
    // curl prints only the status; a stream that is let in is cut after two seconds (its status stays).
    const call = (name: string, method: string, pathname: string, body?: string) =>
      `echo ${name}:$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X ${method} ${body === undefined ? "" : `-H 'content-type: application/json' --data '${body}' `}'${app}${pathname}')`;
    const setup = [
      "{",
      `if cat '${token}' >/dev/null 2>&1; then echo token-file:ok; else echo token-file:denied; fi`,
      call("tasks", "GET", "/api/tasks"),
      call("nodes", "GET", "/api/nodes"),
      call("submit", "POST", "/api/tasks", JSON.stringify({ repository: makeRepo(), prompt: "Sent from a workspace" })),
      call("task-stream", "GET", "/api/events"),
      call("secret", "PUT", "/api/secrets/ANTHROPIC_API_KEY", JSON.stringify({ value: "sk-from-a-workspace" })),
      call("machine", "POST", "/api/machines/registrations", "{}"),
      call("me", "GET", "/api/me"),
      `} > '${out}/probes'`,
    ].join("\n");
    const repo = makeRepo({ ".agent/setup.sh": `${setup}\n` });
    const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Reach the control plane" });
    expect(status, JSON.stringify(body)).toBe(202);
    const { done } = await untilFinished(system, (body as { taskId: string }).taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    const probes = Object.fromEntries(fs.readFileSync(path.join(out, "probes"), "utf8").trim().split("\n").map((line) => line.split(":")));
    // Its only way out is its egress proxy, which refuses the control plane whatever the policy (403);
    // past the proxy there is no route to this machine at all (tests/integration/egress.test.ts).
    expect(probes).toEqual({ "token-file": "denied", tasks: "403", nodes: "403", submit: "403", "task-stream": "403", secret: "403", machine: "403", me: "403" });
    // Only this test's own task was made.
    expect(await taskCount()).toBe(before + 1);
  }, 120_000);
});

describe("bad input", () => {
  const host = () => new URL(system.appUrl).host;
  const json = () => ({ ...system.authHeaders, "content-type": "application/json" });
  const post = (pathname: string, body: string, headers: Record<string, string> = json()) => raw("POST", pathname, { host: host(), ...headers }, body);
  const problem = (answer: { body: string }) => JSON.parse(answer.body) as { error: string; field?: string };

  it("answers 4xx naming the field to malformed, oversized and hostile task submissions, and stores nothing", async () => {
    const before = await taskCount();
    const repository = makeRepo();
    const cases: [string, string, number, string | undefined][] = [
      ["not JSON", "{", 400, "body"],
      ["an array", "[]", 422, undefined],
      ["a prompt that is a number", JSON.stringify({ repository, prompt: 7 }), 422, "prompt"],
      ["a NUL in the prompt", JSON.stringify({ repository, prompt: "fix\u0000this" }), 422, "prompt"],
      ["a NUL in the repository", JSON.stringify({ repository: `${repository}\u0000x`, prompt: "p" }), 422, "repository"],
      ["an unknown agent", JSON.stringify({ repository, prompt: "p", agent: "rm -rf" }), 422, "agent"],
      ["a 2 MiB prompt", JSON.stringify({ repository, prompt: "x".repeat(2 * 1024 * 1024) }), 413, "body"],
      ["200,000 nested arrays", "[".repeat(200_000) + "]".repeat(200_000), 422, undefined],
      ["lone surrogates", `{"repository":${JSON.stringify(repository)},"prompt":"\\ud800\\udfff\\udc00"}`, 202, undefined],
    ];
    for (const [what, body, status, field] of cases) {
      const answer = await post("/api/tasks", body);
      expect(answer.status, `${what}: ${answer.body.slice(0, 200)}`).toBe(status);
      if (status >= 400) expect(problem(answer).field, what).toBe(field);
    }
    // Only the lone surrogates (stored as replacement characters) made a task.
    expect(await taskCount()).toBe(before + 1);
  });

  it("refuses an oversized body sent without a Content-Length before reading it all", async () => {
    const url = new URL("/api/tasks", system.appUrl);
    const answer = await new Promise<number>((resolve, reject) => {
      const request = http.request(url, { method: "POST", headers: { ...json(), "transfer-encoding": "chunked" } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      request.on("error", reject);
      const chunk = Buffer.alloc(64 * 1024, "x");
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!request.write(chunk)) return void request.once("drain", pump);
        }
        request.end();
      };
      pump();
    });
    expect(answer).toBe(413);
  });

  it("answers every user route's malformed ids and queries with 4xx, never 5xx", async () => {
    const requests: [string, string, string?][] = [
      ["GET", "/api/tasks/not-an-id"],
      ["GET", "/api/tasks/%00"],
      ["GET", `/api/tasks/${"a".repeat(5000)}`],
      ["GET", "/api/tasks/00000000-0000-0000-0000-000000000000"],
      ["GET", "/api/tasks/00000000-0000-0000-0000-000000000000/events"],
      ["POST", "/api/tasks/not-an-id/cancel"],
      ["POST", "/api/tasks/00000000-0000-0000-0000-000000000000/cancel"],
      ["POST", "/api/nodes/n_nope/destroy", JSON.stringify({ force: "yes" })],
      ["POST", "/api/nodes/n_nope/destroy", JSON.stringify({ force: true })],
      ["POST", "/api/nodes/..%2f..%2fetc/destroy", "{}"],
      ["GET", "/api/errors?kind=bogus"],
      ["GET", "/api/errors?kind=%00"],
      ["POST", "/api/workspaces/w_x/ready", "{}"],
      ["POST", "/api/agent-sessions/s_x/output", "{"],
    ];
    for (const [method, pathname, body] of requests) {
      const answer = await raw(method, pathname, { host: host(), ...system.authHeaders, ...(body === undefined ? {} : json()) }, body);
      expect(answer.status, `${method} ${pathname}: ${answer.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${method} ${pathname}: ${answer.body.slice(0, 200)}`).toBeLessThan(500);
    }
  });
});
