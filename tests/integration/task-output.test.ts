/**
 * `GET /api/tasks/{id}/output`, the whole agent output of a task's attempt, through the real app in
 * team mode: its owner reads all of it (in JSON pages, or downloaded as text or NDJSON) while the
 * task detail carries only the newest lines; another person gets 404, a bad parameter a 4xx naming it.
 * The output rows are written straight into the database (the callback that stores them is
 * tested in callbacks.test.ts; here the task fails at its clone, before any agent runs).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { agentOutput, users } from "@/db/schema";
import { TaskOutputPage, type TaskDetail } from "@/lib/contracts/api";
import { newKeyRingEntry } from "@/lib/envelope";
import { watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
let alice: { token: string };
let bob: { token: string };
let taskId: string;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** 12 batches of 1,000 lines, stored out of order within the turn (as a retried delivery lands). */
const BATCHES = 12;
const LINES_PER_BATCH = 1_000;
const line = (batch: number, i: number) => (i % 2 ? `{"type":"assistant","n":${batch * LINES_PER_BATCH + i}}` : `plain line ${batch * LINES_PER_BATCH + i}`);
const ALL_LINES = Array.from({ length: BATCHES * LINES_PER_BATCH }, (_, n) => line(Math.floor(n / LINES_PER_BATCH), n % LINES_PER_BATCH));

async function person(email: string) {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/admin.ts", "create-user", "--email", email, "--name", email.split("@")[0]!], {
    env: { ...process.env, ...system.databaseEnv, DATA_DIR: system.dataDir },
  });
  const [row] = await system.database.db.select().from(users).where(eq(users.email, email));
  return { id: row!.id, token: stdout.trim() };
}

const get = (pathname: string, token: string) => fetch(`${system.appUrl}${pathname}`, { headers: bearer(token) });

beforeAll(async () => {
  system = await startTestSystem({ AUTH_MODE: "team", AUTH_SECRET: "test-secret-".padEnd(40, "x"), GITHUB_CLIENT_ID: "Iv1.test", GITHUB_CLIENT_SECRET: "test", SECRETS_KEYS: newKeyRingEntry("k1") });
  alice = await person("alice@example.com");
  bob = await person("bob@example.com");
  // Team mode clones over https only, which this machine cannot reach: the task fails at its clone.
  const submitted = await system.api("POST", "/api/tasks", { repository: "https://git.invalid/acme/app.git", prompt: "Alice's work" }, bearer(alice.token));
  expect(submitted.status).toBe(202);
  taskId = submitted.body.taskId;
  const watch = await watchTask(system, taskId, bearer(alice.token));
  await watch.until((t) => t.status === "failed", 60_000, "the task to fail at its clone").finally(() => watch.close());
  const order = [0, 1, 2, 3, 5, 4, 6, 7, 8, 10, 9, 11];
  for (const batch of order) {
    const lines = Array.from({ length: LINES_PER_BATCH }, (_, i) => line(batch, i));
    await system.database.db.insert(agentOutput).values({ taskId, sessionId: "s-alice", turn: 1, offset: batch * 100_000, lines });
  }
});
afterAll(async () => system?.stop());

it("gives another person 404, and nobody without a token anything", async () => {
  for (const query of ["", "?format=text", "?format=ndjson", "?attempt=1&after=0&limit=10"]) {
    const asBob = await get(`/api/tasks/${taskId}/output${query}`, bob.token);
    expect(asBob.status, query).toBe(404);
    expect(await asBob.json()).toEqual({ error: `task ${taskId} not found`, field: "id" });
    expect(asBob.headers.get("content-disposition")).toBeNull();
  }
  expect((await fetch(`${system.appUrl}/api/tasks/${taskId}/output`)).status).toBe(401);
});

it.each([
  ["limit=0", 422, "limit"],
  ["limit=10001", 422, "limit"],
  ["after=x", 422, "after"],
  ["attempt=0", 422, "attempt"],
  ["format=pdf", 422, "format"],
  ["attempt=2", 404, "attempt"],
])("answers ?%s with %i naming the field", async (query, status, field) => {
  const response = await get(`/api/tasks/${taskId}/output?${query}`, alice.token);
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: string; field: string };
  expect(body.field).toBe(field);
  expect(body.error).toMatch(new RegExp(`^(${field} |task )`));
});

it("keeps the task detail small (the newest 300 lines, and how many batches there are) while the route returns every line, in order", async () => {
  const detail = (await (await get(`/api/tasks/${taskId}`, alice.token)).json()) as TaskDetail;
  expect(detail.output.lines).toEqual(ALL_LINES.slice(-300));
  expect(detail.output).toMatchObject({ truncated: true, batches: BATCHES });

  const lines: string[] = [];
  let pages = 0;
  for (let after = 0; ; ) {
    pages++;
    const response = await get(`/api/tasks/${taskId}/output?after=${after}&limit=5000`, alice.token);
    expect(response.status).toBe(200);
    const page = TaskOutputPage.parse(await response.json());
    expect(page).toMatchObject({ attempt: 1, batchCount: BATCHES });
    // In the order stored; a reader puts them in place by turn and offset.
    lines.push(...page.batches.sort((a, b) => a.turn - b.turn || a.offset - b.offset).flatMap((b) => b.lines));
    if (!page.more) break;
    after = page.after;
  }
  // 5,000 lines a page: 5 + 5 + 2 batches.
  expect(pages).toBe(3);
  expect(new Set(lines).size).toBe(ALL_LINES.length);
  expect([...lines].sort()).toEqual([...ALL_LINES].sort());
});

it("downloads the whole output as text and as NDJSON, as a file", async () => {
  const text = await get(`/api/tasks/${taskId}/output?format=text`, alice.token);
  expect(text.status).toBe(200);
  expect(text.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(text.headers.get("content-disposition")).toBe(`attachment; filename="task-${taskId}-attempt-1-output.txt"`);
  expect((await text.text()).split("\n")).toEqual([...ALL_LINES, ""]);

  const ndjson = await get(`/api/tasks/${taskId}/output?format=ndjson`, alice.token);
  expect(ndjson.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
  expect(ndjson.headers.get("content-disposition")).toBe(`attachment; filename="task-${taskId}-attempt-1-output.ndjson"`);
  const records = (await ndjson.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as { turn: number; line: string });
  expect(records).toHaveLength(ALL_LINES.length);
  expect(records[0]).toEqual({ turn: 1, line: ALL_LINES[0] });
  expect(records.map((r) => r.line)).toEqual(ALL_LINES);
});
