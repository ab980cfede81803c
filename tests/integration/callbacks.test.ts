/**
 * Callbacks and the race rule, against the real system. The agent here is a configured script
 * command that holds until the test creates a release file, so the test controls when it ends.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { agentSessions, errors, nodes } from "@/db/schema";
import { signingKeyPair } from "@/lib/auth/keys";
import { loadKeyRing } from "@/lib/secrets/key-ring";
import { signNodeCallbackToken, signWorkspaceCallbackToken } from "@/lib/auth/tokens";
import { recordAgentCompletion } from "@/lib/sessions/lifecycle";
import { isTerminal } from "@/lib/tasks/state-machine";
import type { TaskDetail } from "@/lib/contracts/api";
import { makeRepo } from "../harness/git";
import { watchTask, type TaskWatch } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";
import { sharedTempDir } from "../harness/shared-dir";
import { DEFAULT_PRICE_TABLE } from "@/lib/usage/pricing";

const HOLDING_AGENT = [
  'case "$AGENT_PROMPT" in hold:*) f="${AGENT_PROMPT#hold:}"; while [ ! -e "$f" ]; do sleep 0.05; done;; esac',
  'echo "$AGENT_PROMPT" > agent-output.txt',
].join("\n");

let system: TestSystem;
const releaseDir = sharedTempDir("acp-release-");

beforeAll(async () => {
  system = await startTestSystem({ SCRIPT_AGENT_COMMAND: HOLDING_AGENT, READY_RECHECK_INTERVAL: "1s", NODE_WARM_TIMEOUT: "0" });
});
afterAll(async () => {
  for (const f of fs.readdirSync(releaseDir)) fs.rmSync(path.join(releaseDir, f), { force: true });
  await system?.stop();
});

const terminal = (t: TaskDetail) => isTerminal(t.status);

/** Submits a task whose agent holds until `release()`; resolves once the agent is running. */
async function holdingTask(name: string): Promise<{ taskId: string; watch: TaskWatch; running: TaskDetail; release(): void }> {
  const releaseFile = path.join(releaseDir, name);
  const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: `hold:${releaseFile}` });
  expect(status).toBe(202);
  const watch = await watchTask(system, body.taskId);
  const running = await watch.until((t) => t.status === "in_progress" || terminal(t), 60_000, "in_progress");
  expect(running.status, running.error ?? "").toBe("in_progress");
  return { taskId: body.taskId, watch, running, release: () => fs.writeFileSync(releaseFile, "go") };
}

async function workspaceToken(workspaceId: string) {
  return signWorkspaceCallbackToken(await signingKeyPair(system.database.db, loadKeyRing({ DATA_DIR: system.dataDir })), { workspaceId }, 60_000);
}

describe("the race rule", () => {
  it("a completion whose event the run never sees still advances the task at the next database check", async () => {
    const { taskId, watch, running, release } = await holdingTask("lost-event");
    const [session] = await system.database.db.select().from(agentSessions).where(eq(agentSessions.taskId, taskId));
    // Exactly what the completion route writes, without the event: as if the event had been sent
    // before the run began to wait, where waitForEvent cannot see it.
    const result = await recordAgentCompletion(system.database.db, session!.id, {
      messageId: `lost-${taskId}`,
      workspaceId: running.workspace!.id,
      outcome: "succeeded",
      exitCode: 0,
      branch: running.branch,
      commit: null,
      pushed: false,
    }, DEFAULT_PRICE_TABLE);
    expect(result.outcome).toBe("applied");
    const done = await watch.until(terminal, 30_000, "completion through the database check");
    expect(done.status, done.error ?? "").toBe("completed");
    release();
    watch.close();
  });
});

describe("callbacks", () => {
  it("a duplicate /ready is a no-op and does not disturb the task", async () => {
    const { taskId, watch, running, release } = await holdingTask("duplicate-ready");
    const workspaceId = running.workspace!.id;
    const token = await workspaceToken(workspaceId);
    const body = { messageId: `dup-${taskId}`, branch: running.branch, baseCommit: "a".repeat(40), setupScript: "absent" };
    const headers = { authorization: `Bearer ${token}` };

    const first = await system.api("POST", `/api/workspaces/${workspaceId}/ready`, body, headers);
    expect(first).toEqual({ status: 200, body: { outcome: "ignored" } });
    const again = await system.api("POST", `/api/workspaces/${workspaceId}/ready`, body, headers);
    expect(again).toEqual({ status: 200, body: { outcome: "duplicate" } });

    release();
    const done = await watch.until(terminal, 30_000, "completion");
    watch.close();
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.steps.filter((s) => s.step === "workspace_ready")).toHaveLength(1);
  });

  it("refuses callbacks without a valid token for that resource", async () => {
    const keys = await signingKeyPair(system.database.db, loadKeyRing({ DATA_DIR: system.dataDir }));
    const body = { messageId: "m1", branch: "agents/x-1", baseCommit: "b".repeat(40), setupScript: "absent" };
    const missing = await system.api("POST", "/api/workspaces/w_abc/ready", body);
    expect(missing.status).toBe(401);

    const nodeToken = await signNodeCallbackToken(keys, { nodeId: "w_abc" }, 60_000);
    const wrongAudience = await system.api("POST", "/api/workspaces/w_abc/ready", body, { authorization: `Bearer ${nodeToken}` });
    expect(wrongAudience.status).toBe(401);

    const otherWorkspace = await workspaceToken("w_other");
    const forbidden = await system.api("POST", "/api/workspaces/w_abc/ready", body, { authorization: `Bearer ${otherWorkspace}` });
    expect(forbidden).toMatchObject({ status: 403, body: { error: "the token is for another workspace" } });
    // A node's token likewise speaks only for its node, whatever the body says.
    const otherNode = await signNodeCallbackToken(keys, { nodeId: "n_other" }, 60_000);
    const heartbeat = { cpuPercent: 1, memoryPercent: 1, diskPercent: 1, workspaces: 0, sessions: [], version: "test", contractVersion: 1 };
    const forbiddenNode = await system.api("POST", "/api/nodes/n_abc/heartbeat", heartbeat, { authorization: `Bearer ${otherNode}` });
    expect(forbiddenNode).toMatchObject({ status: 403, body: { error: "the token is for another node" } });

    const badBody = await system.api("POST", "/api/workspaces/w_abc/ready", { ...body, baseCommit: "nope" }, {
      authorization: `Bearer ${await workspaceToken("w_abc")}`,
    });
    expect(badBody.status).toBe(422);
    expect(badBody.body.field).toBe("baseCommit");

    const forged = await system.api("POST", "/api/workspaces/w_abc/ready", body, { authorization: "Bearer eyJhbGciOiJub25lIn0.e30." });
    expect(forged.status).toBe(401);
  });
});

describe("node ready", () => {
  it("refuses an endpoint the node's provider did not give it, naming the field, and keeps the node's own", async () => {
    const { taskId, watch, running, release } = await holdingTask("redirect");
    const nodeId = running.node!.id;
    const [before] = await system.database.db.select().from(nodes).where(eq(nodes.id, nodeId));
    const token = await signNodeCallbackToken(await signingKeyPair(system.database.db, loadKeyRing({ DATA_DIR: system.dataDir })), { nodeId }, 60_000);
    const body = { endpoint: "https://127.0.0.1:1", certificateFingerprint: before!.certificateFingerprint, version: "0.1.0", contractVersion: 2 };

    const refused = await system.api("POST", `/api/nodes/${nodeId}/ready`, body, { authorization: `Bearer ${token}` });
    expect(refused).toMatchObject({ status: 422, body: { field: "endpoint", error: expect.stringContaining(`endpoint is not where node ${nodeId} serves`) } });
    const [after] = await system.database.db.select().from(nodes).where(eq(nodes.id, nodeId));
    expect(after).toMatchObject({ endpoint: before!.endpoint, certificateFingerprint: before!.certificateFingerprint, status: "running" });
    const recorded = await system.database.db.select().from(errors).where(eq(errors.nodeId, nodeId));
    expect(recorded.map((e) => e.message)).toContainEqual(expect.stringContaining(`was started on port ${new URL(before!.endpoint!).port}, not 1`));

    // The task goes on, on the node's real endpoint.
    release();
    const done = await watch.until(terminal, 30_000, "completion");
    watch.close();
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.id).toBe(taskId);
  });
});

describe("cancel", () => {
  it("stops the run, the agent and the node", async () => {
    const { taskId, watch, running } = await holdingTask("cancelled");
    const nodeId = running.node!.id;
    const answer = await system.api("POST", `/api/tasks/${taskId}/cancel`);
    expect(answer).toEqual({ status: 202, body: { taskId, status: "cancelled" } });

    const stopped = await watch.until((t) => t.node?.status === "stopped", 30_000, "the node stopped");
    watch.close();
    expect(stopped.status).toBe("cancelled");
    expect(stopped.workspace?.status).toBe("stopped");
    expect(stopped.steps.filter((s) => s.status === "running")).toEqual([]);
    const [node] = await system.database.db.select().from(nodes).where(eq(nodes.id, nodeId));
    expect(node?.status).toBe("stopped");
    // The node's vm-agent process (and with it the agent) is gone.
    const pid = Number(/^pid:(\d+)$/.exec(node!.providerServerId ?? "")?.[1]);
    expect(() => process.kill(pid, 0)).toThrow();

    const again = await system.api("POST", `/api/tasks/${taskId}/cancel`);
    expect(again.status).toBe(409);
  });
});
