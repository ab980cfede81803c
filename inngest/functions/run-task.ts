/**
 * One run per task: select or provision a node, wait for its agent, create the workspace, wait
 * for it, start the agent, wait for it to finish, clean up. Every wait follows the race rule:
 * check the database in a step, then wait for the event in slices, re-checking between slices.
 */
import { NonRetriableError } from "inngest";
import { inngest } from "../client";
import { agentCompleted, agentFailed, nodeReady, taskCancelled, taskSubmitted, workspaceProvisioningFailed, workspaceReady } from "../events";
import { permanentFailuresFail } from "../errors";
import { config } from "@/lib/config";
import { toInngestDuration } from "@/lib/duration";
import { runtime } from "@/lib/runtime";
import * as stages from "@/lib/pipeline/stages";
import { failTask } from "@/lib/tasks/fail-task";

type Step = Parameters<Parameters<typeof inngest.createFunction>[1]>[0]["step"];
type WaitableEvent = typeof nodeReady | typeof workspaceReady | typeof agentCompleted;

async function waitUntilReady(
  step: Step,
  opts: { name: string; check: () => Promise<stages.Readiness>; event: WaitableEvent; ifExpr: string; totalMs: number },
): Promise<stages.Readiness> {
  const sliceMs = Math.min(config().READY_RECHECK_INTERVAL, opts.totalMs);
  const slices = Math.max(1, Math.ceil(opts.totalMs / sliceMs));
  for (let i = 0; i < slices; i++) {
    const state = await step.run(`${opts.name}-check-${i}`, opts.check);
    if (state !== "pending") return state;
    await step.waitForEvent(`${opts.name}-wait-${i}`, { event: opts.event, timeout: toInngestDuration(sliceMs), if: opts.ifExpr });
  }
  return step.run(`${opts.name}-check-final`, opts.check);
}

const cfg = config();

export const runTask = inngest.createFunction(
  {
    id: "run-task",
    triggers: [taskSubmitted],
    idempotency: "event.data.runKey",
    // A cancelled task, a failed provisioning and a failed agent all end the run at once; their
    // callback routes already wrote the outcome, and finish-stopped-task cleans up.
    cancelOn: [
      { event: taskCancelled, match: "data.taskId" },
      { event: workspaceProvisioningFailed, match: "data.taskId" },
      { event: agentFailed, match: "data.taskId" },
    ],
    concurrency: { key: "event.data.userId", limit: 20 },
    retries: cfg.STEP_RETRIES as 3,
    onFailure: async ({ event, error, step }) => {
      const taskId = event.data.event.data.taskId;
      await step.run("record-failure", async () => {
        const rt = await runtime();
        await failTask(rt.db, taskId, error.message);
        return stages.cleanupTask(rt, taskId);
      });
    },
  },
  async ({ event, step }) => {
    const { taskId } = event.data;
    const rt = await runtime();
    const timeoutError = (what: string, ms: number) => new NonRetriableError(`${what} did not happen within ${toInngestDuration(ms)}`);

    const stillWanted = await step.run("check-task", async () => Boolean(await stages.activeTask(rt, taskId)));
    if (!stillWanted) return { skipped: "task is no longer active" };

    let { nodeId } = await step.run("node_selection", () => stages.selectNodeStage(rt, taskId));
    if (!nodeId) {
      ({ nodeId } = await step.run("node_provisioning", () => permanentFailuresFail(() => stages.provisionNodeStage(rt, taskId))));
    }
    const node = nodeId;

    const nodeState = await waitUntilReady(step, {
      name: "node_agent_ready",
      check: () => stages.nodeReadiness(rt, taskId, node),
      event: nodeReady,
      ifExpr: `async.data.nodeId == "${node}"`,
      totalMs: rt.config.NODE_AGENT_READY_TIMEOUT,
    });
    if (nodeState === "failed") throw new NonRetriableError(`node ${node} stopped before its agent was ready`);
    if (nodeState === "pending") throw timeoutError(`node ${node} reporting ready`, rt.config.NODE_AGENT_READY_TIMEOUT);

    const { workspaceId } = await step.run("workspace_creation", () =>
      permanentFailuresFail(() => stages.createWorkspaceStage(rt, taskId, node)),
    );

    const workspaceState = await waitUntilReady(step, {
      name: "workspace_ready",
      check: () => stages.workspaceReadiness(rt, taskId, workspaceId),
      event: workspaceReady,
      ifExpr: `async.data.workspaceId == "${workspaceId}"`,
      totalMs: rt.config.WORKSPACE_READY_TIMEOUT,
    });
    // A failed workspace already failed the task in its callback; nothing is left to do here.
    if (workspaceState === "failed") return { outcome: "failed", at: "workspace_ready" };
    if (workspaceState === "pending") throw timeoutError(`workspace ${workspaceId} reporting ready`, rt.config.WORKSPACE_READY_TIMEOUT);

    const { sessionId } = await step.run("agent_session", () =>
      permanentFailuresFail(() => stages.startAgentStage(rt, taskId, workspaceId)),
    );

    const agentState = await waitUntilReady(step, {
      name: "running",
      check: () => stages.agentReadiness(rt, sessionId),
      event: agentCompleted,
      ifExpr: `async.data.sessionId == "${sessionId}"`,
      totalMs: rt.config.AGENT_MAX_EXECUTION,
    });
    if (agentState === "failed") return { outcome: "failed", at: "running" };
    if (agentState === "pending") throw timeoutError(`agent session ${sessionId} finishing`, rt.config.AGENT_MAX_EXECUTION);

    await step.run("cleanup", () => stages.completeTaskStage(rt, taskId));
    return { outcome: "completed", workspaceId, sessionId };
  },
);
