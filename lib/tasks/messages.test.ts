/** Follow-ups are stored in order, once per client id, only for their owner's open task, and wake its run. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { tasks, users } from "@/db/schema";
import type { TaskStatus } from "../contracts/statuses";
import type { SendEvents } from "../contracts/events";
import { recordRunCheckIn } from "../runs/steps";
import { listMessages, sendMessage } from "./messages";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const sent: unknown[] = [];
const send: SendEvents = async (events) => {
  sent.push(...[events].flat());
  return { ids: ["e"] };
};

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values([
    { id: "u1", email: "u1@example.test", name: "U1" },
    { id: "u2", email: "u2@example.test", name: "U2" },
  ]);
  const task = (id: string, status: TaskStatus): typeof tasks.$inferInsert => ({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status, branch: `agents/${id}` });
  await database.db.insert(tasks).values([task("t_open", "in_progress"), task("t_done", "completed")]);
});
afterAll(async () => database?.close());

describe("a follow-up", () => {
  it("is stored in order, a resend with the same client id is the same message, and each new one wakes the run unless a wake is outstanding", async () => {
    const deps = { db: database.db, send, config: { WAKE_RESEND_AFTER: 60_000, AUTH_MODE: "local" as const, MAX_FOLLOWUPS_PER_MINUTE: 30 } };
    const first = await sendMessage(deps, "u1", "t_open", { body: "Also add tests", clientId: "c1" });
    const again = await sendMessage(deps, "u1", "t_open", { body: "Also add tests", clientId: "c1" });
    // The run has not looked since the first wake: its look will read this message too.
    const coalesced = await sendMessage(deps, "u1", "t_open", { body: "Or maybe not" });
    expect(sent).toHaveLength(1);
    await recordRunCheckIn(database.db, "t_open", 0, 30_000);
    const second = await sendMessage(deps, "u1", "t_open", { body: "And a changelog entry" });
    expect(coalesced).toMatchObject({ outcome: "queued" });
    expect(first).toMatchObject({ outcome: "queued", message: { clientId: "c1", body: "Also add tests", status: "queued", turn: null } });
    expect(again).toEqual(first);
    expect(second).toMatchObject({ outcome: "queued", message: { body: "And a changelog entry", status: "queued" } });
    expect((await listMessages(database.db, "t_open")).map((m) => m.body)).toEqual(["Also add tests", "Or maybe not", "And a changelog entry"]);
    expect(sent).toEqual([
      { name: "task/followup", data: { taskId: "t_open" } },
      { name: "task/followup", data: { taskId: "t_open" } },
    ].map((event) => expect.objectContaining(event)));
  });

  it("is refused for an ended task, and another person's task is not found", async () => {
    const deps = { db: database.db, send, config: { WAKE_RESEND_AFTER: 60_000, AUTH_MODE: "local" as const, MAX_FOLLOWUPS_PER_MINUTE: 30 } };
    expect(await sendMessage(deps, "u1", "t_done", { body: "too late" })).toEqual({ outcome: "ended", status: "completed" });
    expect(await sendMessage(deps, "u2", "t_open", { body: "not mine" })).toEqual({ outcome: "not_found" });
    expect(await listMessages(database.db, "t_done")).toEqual([]);
  });
});
