/**
 * Team mode: every request names its person (a personal API token here), and every resource is
 * that person's only — another person's ids answer 404 on every route and stream. Tokens are
 * made by the headless command, listed, revoked (live streams included), and per-person limits hold.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiTokens, userSecrets, users } from "@/db/schema";
import { createApiToken } from "@/lib/auth/api-tokens";
import { findOrCreateUser } from "@/lib/users";
import { newKeyRingEntry, parseKeyRing } from "@/lib/envelope";
import { secretValues } from "@/lib/secrets/store";
import { watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
const firstKey = newKeyRingEntry("k1");

beforeAll(async () => {
  system = await startTestSystem({
    AUTH_MODE: "team",
    // Sign-in is configured, but these tests come in with tokens (the browser flow is e2e/sign-in.e2e.ts).
    AUTH_SECRET: "test-secret-".padEnd(40, "x"),
    GITHUB_CLIENT_ID: "Iv1.test",
    GITHUB_CLIENT_SECRET: "test",
    SECRETS_KEYS: firstKey,
    MAX_TASK_SUBMISSIONS_PER_MINUTE: "4",
  });
});
afterAll(async () => system?.stop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/**
 * Team mode clones only over https, which this machine cannot reach: these tasks are placed on a
 * node and then fail at the clone, which is all the ownership checks need (and gives an error).
 */
const repository = "https://git.invalid/acme/app.git";

/** A person with a token, made the way a headless operator does it. */
async function person(email: string) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", "create-user", "--email", email, "--name", email.split("@")[0]!], {
    env: { ...process.env, ...system.databaseEnv, DATA_DIR: system.dataDir },
  });
  const [row] = await system.database.db.select().from(users).where(eq(users.email, email));
  return { id: row!.id, role: row!.role, token: stdout.trim(), said: stderr };
}

/** Opens a live stream; resolves with its status and a promise of its end. */
async function openStream(pathname: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${system.appUrl}${pathname}`, { headers: bearer(token), signal: controller.signal });
  const chunks: string[] = [];
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(decoder.decode(chunk));
    } catch {
      // Aborted by the test.
    }
  })();
  return { status: response.status, chunks, ended, abort: () => controller.abort() };
}

describe("team mode", () => {
  let alice: Awaited<ReturnType<typeof person>>;
  let bob: Awaited<ReturnType<typeof person>>;
  let aliceTask: string;

  beforeAll(async () => {
    alice = await person("alice@example.com");
    bob = await person("bob@example.com");
    const submitted = await system.api("POST", "/api/tasks", { repository, prompt: "Alice's work" }, bearer(alice.token));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    aliceTask = submitted.body.taskId;
    // Her task was placed on a node (the node routes have something to refuse) and failed at the clone.
    const watch = await watchTask(system, aliceTask, bearer(alice.token));
    await watch.until((t) => t.status === "failed" && t.node !== null, 60_000, "Alice's task to fail at the clone");
    watch.close();
  });

  it("makes the first person the admin and prints a token once, through the headless command", () => {
    expect(alice.role).toBe("admin");
    expect(bob.role).toBe("member");
    expect(alice.token).toMatch(/^acp_[\w-]{40,}$/);
    expect(alice.said).toMatch(/Admin alice <alice@example\.com>/);
  });

  it("answers 401 to a request without a valid token, on every user route and stream", async () => {
    for (const pathname of ["/api/tasks", "/api/events", "/api/nodes", "/api/nodes/events", "/api/errors", "/api/errors/events", "/api/tokens", `/api/tasks/${aliceTask}`]) {
      const none = await system.api("GET", pathname);
      expect(none.status, pathname).toBe(401);
      expect(none.body.field, pathname).toBe("authorization");
      expect((await system.api("GET", pathname, undefined, bearer("acp_forged"))).status, pathname).toBe(401);
    }
    expect((await system.api("POST", "/api/tasks", { repository, prompt: "anonymous" })).status).toBe(401);
  });

  it("serves public/'s icon and web manifest to anyone, signed in or not, while pages send a stranger to sign in", async () => {
    const icon = await fetch(`${system.appUrl}/icon.svg`, { redirect: "manual" });
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
    const manifest = await fetch(`${system.appUrl}/manifest.webmanifest`, { redirect: "manual" });
    expect(manifest.status).toBe(200);
    expect(await manifest.json()).toMatchObject({ name: "Agent Control Plane", start_url: "/", icons: [{ src: "/icon.svg" }] });
    const page = await fetch(`${system.appUrl}/`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toContain("/sign-in");
  });

  it("shows another person's ids as not found, on every route and stream", async () => {
    const task = (await system.api("GET", `/api/tasks/${aliceTask}`, undefined, bearer(alice.token))).body;
    const nodeId = task.node.id as string;
    const [token] = await system.database.db.select().from(apiTokens).where(eq(apiTokens.userId, alice.id));

    const asBob = (method: string, pathname: string, body?: unknown) => system.api(method, pathname, body, bearer(bob.token));
    for (const [method, pathname, body] of [
      ["GET", `/api/tasks/${aliceTask}`],
      ["GET", `/api/tasks/${aliceTask}/events`],
      ["POST", `/api/tasks/${aliceTask}/cancel`],
      ["POST", `/api/tasks/${aliceTask}/retry`],
      ["POST", `/api/tasks/${aliceTask}/messages`, { body: "let me in" }],
      ["POST", `/api/tasks/${aliceTask}/finish`],
      ["GET", `/api/tasks/${aliceTask}/diff`],
      ["GET", `/api/tasks/${aliceTask}/output`],
      ["POST", `/api/tasks/${aliceTask}/push`],
      ["POST", `/api/tasks/${aliceTask}/discard`],
      ["POST", `/api/nodes/${nodeId}/destroy`, { force: true }],
      ["DELETE", `/api/tokens/${token!.id}`],
    ] as const) {
      expect((await asBob(method, pathname, body)).status, `${method} ${pathname}`).toBe(404);
    }
    expect((await asBob("GET", "/api/tasks")).body.tasks).toEqual([]);
    expect((await asBob("GET", "/api/nodes?all=1")).body.nodes).toEqual([]);
    expect((await asBob("GET", "/api/errors")).body.errors).toEqual([]);
    expect((await asBob("GET", "/api/tokens")).body.tokens.map((t: { id: string }) => t.id)).not.toContain(token!.id);

    // Alice sees all of it.
    const asAlice = (pathname: string) => system.api("GET", pathname, undefined, bearer(alice.token));
    expect((await asAlice("/api/tasks")).body.tasks.map((t: { id: string }) => t.id)).toContain(aliceTask);
    expect((await asAlice("/api/nodes?all=1")).body.nodes.map((n: { id: string }) => n.id)).toContain(nodeId);
    expect((await asAlice("/api/errors")).body.errors.map((e: { taskId: string }) => e.taskId)).toContain(aliceTask);
  });

  it("keeps another person's task changes out of the task-list stream", async () => {
    const stream = await openStream("/api/events", bob.token);
    expect(stream.status).toBe(200);
    const again = await system.api("POST", "/api/tasks", { repository, prompt: "Alice again" }, bearer(alice.token));
    const watched = await openStream(`/api/tasks/${again.body.taskId}/events`, alice.token);
    await expect.poll(() => watched.chunks.join("").includes('"status":"failed"'), { timeout: 60_000 }).toBe(true);
    watched.abort();
    stream.abort();
    await stream.ended;
    expect(stream.chunks.join("")).not.toContain(again.body.taskId);
  });

  it("lists a person's tokens without their secrets, and a revoked token is refused at once, its live streams ended", async () => {
    const made = await system.api("POST", "/api/tokens", { name: "ci" }, bearer(bob.token));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: "ci", token: expect.stringMatching(/^acp_/), revokedAt: null });
    const listed = (await system.api("GET", "/api/tokens", undefined, bearer(bob.token))).body.tokens;
    expect(listed.find((t: { id: string }) => t.id === made.body.id)).toMatchObject({ name: "ci", prefix: made.body.token.slice(0, 10) });
    expect(JSON.stringify(listed)).not.toContain(made.body.token);

    const stream = await openStream("/api/events", made.body.token);
    expect(stream.status).toBe(200);
    await expect.poll(() => stream.chunks.length).toBeGreaterThan(0);
    expect((await system.api("GET", "/api/tasks", undefined, bearer(made.body.token))).status).toBe(200);
    await expect.poll(async () => (await system.database.db.select().from(apiTokens).where(eq(apiTokens.id, made.body.id)))[0]?.lastUsedAt).not.toBeNull();

    const revoked = await system.api("DELETE", `/api/tokens/${made.body.id}`, undefined, bearer(bob.token));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await system.api("GET", "/api/tasks", undefined, bearer(made.body.token))).status).toBe(401);
    // The open stream ends by itself, well before a keep-alive interval (15 s).
    const started = Date.now();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("limits submissions per minute per person, with Retry-After, and not another person's", async () => {
    const carol = await findOrCreateUser(system.database.db, { email: "carol@example.com", name: "Carol" });
    const { token } = await createApiToken(system.database.db, carol.id, "limits");
    const submit = () => system.api("POST", "/api/tasks", { repository, prompt: "Carol's" }, bearer(token));
    for (let i = 0; i < 4; i++) expect((await submit()).status).toBe(202);
    const limited = await fetch(`${system.appUrl}/api/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ repository, prompt: "one too many" }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { error: string }).error).toMatch(/MAX_TASK_SUBMISSIONS_PER_MINUTE/);
    // Bob is not held back by Carol.
    expect((await system.api("POST", "/api/tasks", { repository, prompt: "Bob's" }, bearer(bob.token))).status).toBe(202);
  });

  it("keeps each person's secrets encrypted and their own, never answering a value, and asks for a missing model key at submit", async () => {
    const asAlice = (method: string, pathname: string, body?: unknown) => system.api(method, pathname, body, bearer(alice.token));
    const missing = await asAlice("POST", "/api/tasks", { repository, prompt: "p", agent: "claude-code" });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ field: "agent", error: expect.stringMatching(/needs your ANTHROPIC_API_KEY: add it in Settings → Secrets \(\/settings#secrets\) or with PUT \/api\/secrets\/ANTHROPIC_API_KEY/) });

    const value = "sk-ant-api03-alice-very-secret";
    const put = await asAlice("PUT", "/api/secrets/ANTHROPIC_API_KEY", { value });
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain(value);
    const listed = await asAlice("GET", "/api/secrets");
    expect(listed.body.secrets).toEqual([expect.objectContaining({ name: "ANTHROPIC_API_KEY" })]);
    expect(JSON.stringify(listed.body)).not.toContain(value);
    const [row] = await system.database.db.select().from(userSecrets).where(eq(userSecrets.userId, alice.id));
    expect(JSON.stringify(row)).not.toContain(value);
    expect(row!.keyId).toBe("k1");

    // Bob sees none of it and cannot delete it.
    expect((await system.api("GET", "/api/secrets", undefined, bearer(bob.token))).body.secrets).toEqual([]);
    expect((await system.api("DELETE", "/api/secrets/ANTHROPIC_API_KEY", undefined, bearer(bob.token))).status).toBe(404);
    expect((await asAlice("PUT", "/api/secrets/AWS_SECRET", { value: "x" })).status).toBe(404);
    expect((await asAlice("PUT", "/api/secrets/OPENAI_API_KEY", { value: "a\u0000b" })).body).toMatchObject({ field: "value" });

    expect((await asAlice("POST", "/api/tasks", { repository, prompt: "now with a key", agent: "claude-code" })).status).toBe(202);

    // Rotation: a new key in front, the old one behind; the command re-wraps without losing the value.
    const rotated = `${newKeyRingEntry("k2")},${firstKey}`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", "rewrap-secrets"], {
      env: { ...process.env, ...system.databaseEnv, DATA_DIR: system.dataDir, SECRETS_KEYS: rotated },
    });
    expect(stdout).toMatch(/Re-wrapped [1-9]\d* secrets with key k2/);
    const [moved] = await system.database.db.select().from(userSecrets).where(eq(userSecrets.userId, alice.id));
    expect(moved!.keyId).toBe("k2");
    const newOnly = parseKeyRing(rotated.split(",")[0]!);
    expect(await secretValues(system.database.db, newOnly, alice.id, ["ANTHROPIC_API_KEY"])).toEqual({ ANTHROPIC_API_KEY: value });

    expect((await asAlice("DELETE", "/api/secrets/ANTHROPIC_API_KEY")).status).toBe(200);
    expect((await asAlice("GET", "/api/secrets")).body.secrets).toEqual([]);
  });

  it("lets only an admin invite, list and remove invitations, and the admin command invite too", async () => {
    const asAlice = (method: string, pathname: string, body?: unknown) => system.api(method, pathname, body, bearer(alice.token));
    const asBob = (method: string, pathname: string, body?: unknown) => system.api(method, pathname, body, bearer(bob.token));
    expect((await asBob("POST", "/api/invitations", { email: "dave@example.com" })).status).toBe(403);
    expect((await asBob("GET", "/api/invitations")).status).toBe(403);
    expect((await asAlice("POST", "/api/invitations", { email: "not-an-email" })).body).toMatchObject({ field: "email" });
    const made = await asAlice("POST", "/api/invitations", { email: "Dave@Example.com" });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ email: "dave@example.com", invitedBy: alice.id, acceptedAt: null });
    // People the command made were invited by it, so they may sign in with GitHub too.
    const listed = (await asAlice("GET", "/api/invitations")).body.invitations.map((i: { email: string }) => i.email);
    expect(listed).toEqual(expect.arrayContaining(["alice@example.com", "bob@example.com", "dave@example.com"]));
    expect((await asBob("DELETE", "/api/invitations?email=dave%40example.com")).status).toBe(403);
    expect((await asAlice("DELETE", "/api/invitations?email=dave%40example.com")).status).toBe(200);
    expect((await asAlice("DELETE", "/api/invitations?email=dave%40example.com")).status).toBe(404);

    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", "invite", "--email", "erin@example.com"], {
      env: { ...process.env, ...system.databaseEnv, DATA_DIR: system.dataDir },
    });
    expect(stdout).toMatch(/Invited erin@example\.com/);
    expect((await asAlice("GET", "/api/invitations")).body.invitations.map((i: { email: string }) => i.email)).toContain("erin@example.com");
  });

  it("refuses a local path or file:// repository, naming the field", async () => {
    for (const local of ["/srv/repos/app", "file:///srv/repos/app", "git@github.com:acme/app.git"]) {
      const { status, body } = await system.api("POST", "/api/tasks", { repository: local, prompt: "p" }, bearer(bob.token));
      expect(status, local).toBe(422);
      expect(body, local).toMatchObject({ field: "repository", error: expect.stringMatching(/https:\/\//) });
    }
  });
});
