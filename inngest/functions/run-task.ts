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
import { waitUntilReady, type WaitSteps } from "../wait-until-ready";
import { runtime } from "@/lib/runtime";
import * as stages from "@/lib/pipeline/stages";
import { failTask } from "@/lib/tasks/fail-task";

const cfg = config();
type Retries = NonNullable<Parameters<typeof inngest.createFunction>[0]["retries"]>;

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
    retries: cfg.STEP_RETRIES as Retries, // the config schema keeps it within Inngest's 0-20
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

    const waitSteps: WaitSteps = {
      run: (id, fn) => step.run(id, fn),
      waitForEvent: (id, opts) => step.waitForEvent(id, opts),
    };
    const sliceMs = rt.config.READY_RECHECK_INTERVAL;
    const nodeState = await waitUntilReady(waitSteps, {
      name: "node_agent_ready",
      check: () => stages.nodeReadiness(rt, taskId, node),
      event: nodeReady.name,
      sliceMs,
      ifExpr: `async.data.nodeId == "${node}"`,
      totalMs: rt.config.NODE_AGENT_READY_TIMEOUT,
    });
    if (nodeState === "failed") throw new NonRetriableError(`node ${node} stopped before its agent was ready`);
    if (nodeState === "pending") throw timeoutError(`node ${node} reporting ready`, rt.config.NODE_AGENT_READY_TIMEOUT);

    const { workspaceId } = await step.run("workspace_creation", () =>
      permanentFailuresFail(() => stages.createWorkspaceStage(rt, taskId, node)),
    );

    const workspaceState = await waitUntilReady(waitSteps, {
      name: "workspace_ready",
      check: () => stages.workspaceReadiness(rt, taskId, workspaceId),
      event: workspaceReady.name,
      sliceMs,
      ifExpr: `async.data.workspaceId == "${workspaceId}"`,
      totalMs: rt.config.WORKSPACE_READY_TIMEOUT,
    });
    // A failed workspace already failed the task in its callback; nothing is left to do here.
    if (workspaceState === "failed") return { outcome: "failed", at: "workspace_ready" };
    if (workspaceState === "pending") throw timeoutError(`workspace ${workspaceId} reporting ready`, rt.config.WORKSPACE_READY_TIMEOUT);

    const { sessionId } = await step.run("agent_session", () =>
      permanentFailuresFail(() => stages.startAgentStage(rt, taskId, workspaceId)),
    );

    const agentState = await waitUntilReady(waitSteps, {
      name: "running",
      check: () => stages.agentReadiness(rt, sessionId),
      event: agentCompleted.name,
      sliceMs,
      ifExpr: `async.data.sessionId == "${sessionId}"`,
      totalMs: rt.config.AGENT_MAX_EXECUTION,
    });
    if (agentState === "failed") return { outcome: "failed", at: "running" };
    if (agentState === "pending") throw timeoutError(`agent session ${sessionId} finishing`, rt.config.AGENT_MAX_EXECUTION);

    await step.run("cleanup", () => stages.completeTaskStage(rt, taskId));
    return { outcome: "completed", workspaceId, sessionId };
  },
);
