/**
 * One run per task generation: place the task on a node (reserving its slot; queued while every
 * node is full), create the node when needed, wait for its daemon, create the workspace, wait for
 * it, start the agent, wait for it, then record the outcome and clean up, all inside the run.
 * A node lost before the agent starts sends the task to another node; every wait follows the race
 * rule (wait-for.ts); every step first checks that this run is still the task's current one.
 */
import { NonRetriableError } from "inngest";
import { inngest } from "../client";
import { taskSubmitted } from "@/lib/contracts/events";
import { toInngestDuration } from "@/lib/duration";
import { runtime } from "../runtime";
import { waitFor, type WaitTools } from "../wait-for";
import { stepId } from "../step-ids";
import type { ExecutionStep } from "@/lib/contracts/api";
import { permanentFailuresFail } from "../errors";
import { claimRun, enterStep, isCurrentRun, recordRunCheckIn, SupersededRunError } from "@/lib/runs/steps";
import { leaveLostNode, nodeReadiness, provisionNodeStage, selectNodeStage } from "@/lib/pipeline/placement";
import { ENDED, LOST } from "@/lib/pipeline/stage";
import { agentReadiness, createWorkspaceStage, startAgentStage, workspaceReadiness } from "@/lib/pipeline/work";
import { completeTaskStage, failTaskStage, lostWhileWorking } from "@/lib/pipeline/finish";
import { cleanupTask } from "@/lib/runs/cleanup";
import { awaitFollowupStage, checksRoundStage, deliverFollowupsStage, endFollowupsStage, followupReadiness } from "@/lib/pipeline/followup";
import { pullRequestStage } from "@/lib/pipeline/pull-request";
import { ciEndStage, ciReadiness, ciWatchStage, type CiNext } from "@/lib/pipeline/ci";
import { WAIT_EVENTS } from "@/lib/pipeline/wait-events";
import { config } from "@/lib/config";
import { failTask } from "@/lib/tasks/fail-task";
import { getTask } from "@/lib/tasks/queries";
import { isTerminal } from "@/lib/tasks/state-machine";
import { redriveTask } from "@/lib/runs/redrive";

const cfg = config();
type Retries = NonNullable<Parameters<typeof inngest.createFunction>[0]["retries"]>;

export const runTask = inngest.createFunction(
  {
    id: "run-task",
    triggers: [taskSubmitted],
    idempotency: "event.data.runKey",
    concurrency: { key: "event.data.userId", limit: 50 },
    retries: cfg.STEP_RETRIES as Retries, // the config schema keeps it within Inngest's 0-20
    onFailure: async ({ event, error, step }) => {
      const { taskId, generation } = event.data.event.data;
      await step.run(stepId("run", "record-failure"), async () => {
        const rt = await runtime();
        // A superseded run's failure is not the task's: the current run owns it.
        if (!(await isCurrentRun(rt.db, taskId, generation))) return { skipped: "superseded" };
        // Only our own permanent failures fail the task. Anything else ran out of retries (the app
        // was unreachable while it restarted, a node kept answering 5xx): a new run goes on from the
        // database, up to MAX_REDRIVES times.
        if (error.name !== "NonRetriableError") {
          const task = await getTask(rt.db, taskId);
          if (task && !isTerminal(task.status)) return redriveTask(rt, task, `run generation ${generation} failed: ${error.message}`);
        }
        await failTask(rt.db, taskId, error.message);
        return cleanupTask(rt, taskId);
      });
    },
  },
  async ({ event, step, group, runId }) => {
    const { taskId, generation } = event.data;
    const rt = await runtime();
    /** A step that first checks this run is still the task's current generation (and promises to call again within RUN_STEP_MAX). */
    const guarded = <T>(id: string, work: () => Promise<T>) =>
      step.run(id, async () => {
        try {
          await enterStep(rt.db, taskId, generation, rt.config.RUN_STEP_MAX);
        } catch (error) {
          if (error instanceof SupersededRunError) throw new NonRetriableError(error.message, { cause: error });
          throw error;
        }
        return work();
      }) as Promise<T>;
    const tools: WaitTools = {
      run: guarded,
      waitForEvent: (id, opts) => step.waitForEvent(id, opts),
      race: (fn) => group.parallel({ mode: "race" }, fn),
    };
    /** The run's promise to call again within `ms` (null: it goes on to its next step now), which tells it from a run the engine no longer calls. */
    const checkIn = (ms: number | null) => recordRunCheckIn(rt.db, taskId, generation, ms ?? rt.config.RUN_STEP_MAX);
    const slices = { firstSliceMs: rt.config.READY_RECHECK_INTERVAL, maxSliceMs: rt.config.READY_RECHECK_MAX, checkIn };
    /** A step's answer that may be "try again at `retryAt`": the run promises to call again by then. */
    const promiseRetry = async <T extends object>(result: T): Promise<T> => {
      const retryAt = "retryAt" in result && typeof result.retryAt === "string" ? Date.parse(result.retryAt) : null;
      await checkIn(retryAt === null ? null : Math.max(0, retryAt - Date.now()));
      return result;
    };
    const fail = (message: string, at: ExecutionStep) => guarded(stepId(at, "fail"), () => failTaskStage(rt, taskId, message, at));
    const finish = async (outcome: string) => {
      const cleanup = await guarded(stepId("cleanup", "clean-up"), () => cleanupTask(rt, taskId));
      return { outcome, cleanup };
    };

    if (!(await step.run(stepId("run", "claim"), () => claimRun(rt.db, taskId, generation, runId, rt.config.RUN_STEP_MAX)))) return { skipped: "the task no longer wants this run" };

    let sessionId: string | undefined;
    for (let attempt = 0; !sessionId; attempt++) {
      if (attempt >= rt.config.MAX_PLACEMENT_ATTEMPTS) {
        await fail(`no node could take the task: ${attempt} nodes were lost before its agent started (MAX_PLACEMENT_ATTEMPTS)`, "node_selection");
        return finish("failed");
      }
      const at = { attempt };
      let selected = await guarded(stepId("node_selection", "select", at), () => selectNodeStage(rt, taskId, attempt));
      if (typeof selected === "object" && "queued" in selected) {
        const placed = await waitFor(tools, {
          name: stepId("node_selection", "queue", at),
          taskId,
          listen: WAIT_EVENTS.queue,
          check: async () => {
            const again = await selectNodeStage(rt, taskId, attempt);
            return typeof again === "object" && "queued" in again ? ("pending" as const) : again;
          },
          totalMs: rt.config.TASK_QUEUE_TIMEOUT,
          ...slices,
        });
        if (placed === "timeout") {
          await fail(`no node had a free slot within TASK_QUEUE_TIMEOUT (${toInngestDuration(rt.config.TASK_QUEUE_TIMEOUT)}): ${selected.queued}`, "node_selection");
          return finish("failed");
        }
        selected = placed;
      }
      if (selected === ENDED) return finish("ended");
      const { nodeId, provision } = selected;
      // A provider that failed for a while is tried again after a sleep (never a loop inside a step), a bounded number of times.
      for (let retry = 0; provision; retry++) {
        const provisioned = await guarded(stepId("node_provisioning", retry ? `provision-retry-${retry}` : "provision", at), async () => promiseRetry(await permanentFailuresFail(() => provisionNodeStage(rt, taskId, nodeId, attempt, retry))));
        if (!("retryAt" in provisioned)) break;
        await step.sleepUntil(stepId("node_provisioning", `back-off-${retry}`, at), provisioned.retryAt);
      }

      const nodeState = await waitFor(tools, { name: stepId("node_agent_ready", "wait", at), taskId, listen: WAIT_EVENTS.node_agent_ready, check: () => nodeReadiness(rt, taskId, nodeId, attempt), totalMs: rt.config.NODE_AGENT_READY_TIMEOUT, ...slices });
      if (nodeState === ENDED) return finish("ended");
      if (nodeState === LOST || nodeState === "timeout") {
        const why = nodeState === LOST ? `node ${nodeId} was lost before the agent started` : `node ${nodeId} did not report ready within ${toInngestDuration(rt.config.NODE_AGENT_READY_TIMEOUT)}`;
        await guarded(stepId("node_agent_ready", "leave-node", at), () => leaveLostNode(rt, taskId, nodeId, why));
        continue;
      }

      const created = await guarded(stepId("workspace_creation", "create", at), () => permanentFailuresFail(() => createWorkspaceStage(rt, taskId, nodeId, attempt)));
      if (created === ENDED) return finish("ended");
      if (created === LOST) {
        await guarded(stepId("workspace_creation", "leave-node", at), () => leaveLostNode(rt, taskId, nodeId, `node ${nodeId} was lost while the workspace was being created`));
        continue;
      }
      const { workspaceId } = created;
      const workspaceState = await waitFor(tools, { name: stepId("workspace_ready", "wait", at), taskId, listen: WAIT_EVENTS.workspace_ready, check: () => workspaceReadiness(rt, taskId, workspaceId, attempt), totalMs: rt.config.WORKSPACE_READY_TIMEOUT, ...slices });
      if (workspaceState === ENDED) return finish("ended");
      if (workspaceState === "timeout") {
        await fail(`workspace ${workspaceId} did not report ready within ${toInngestDuration(rt.config.WORKSPACE_READY_TIMEOUT)}`, "workspace_ready");
        return finish("failed");
      }
      if (typeof workspaceState === "object") {
        await fail(workspaceState.failed, "workspace_ready");
        return finish("failed");
      }
      if (workspaceState === LOST) {
        await guarded(stepId("workspace_ready", "leave-node", at), () => leaveLostNode(rt, taskId, nodeId, `node ${nodeId} was lost while the workspace was being prepared`));
        continue;
      }

      const started = await guarded(stepId("agent_session", "start", at), () => permanentFailuresFail(() => startAgentStage(rt, taskId, workspaceId, attempt)));
      if (started === ENDED) return finish("ended");
      if (started === LOST) {
        await guarded(stepId("agent_session", "leave-node", at), () => leaveLostNode(rt, taskId, nodeId, `node ${nodeId} was lost before the agent started`));
        continue;
      }
      sessionId = started.sessionId;
    }

    /** The turn's pull request: opened or updated; a forge that failed for a while is tried again after a sleep. */
    const pullRequest = async (turn: number) => {
      for (let i = 0; ; i++) {
        const synced = await guarded(stepId("running", i ? `pull-request-retry-${i}` : "pull-request", { turn }), async () => {
          const result = await pullRequestStage(rt, taskId, agentSession);
          return result === ENDED ? result : promiseRetry(result);
        });
        if (synced === ENDED || synced.outcome !== "retry") return;
        await step.sleepUntil(stepId("running", `pull-request-back-off-${i}`, { turn }), synced.retryAt);
      }
    };

    const agentSession = sessionId;
    // A best-of-N candidate works on its own: after its checks' rounds it ends, waiting for no follow-up (the person compares and picks).
    const waitsForFollowups = rt.config.SESSION_IDLE_TIMEOUT > 0 && !(await step.run(stepId("run", "candidate"), async () => (await getTask(rt.db, taskId))?.groupId != null));
    /** After a turn (and its CI): a failed round of checks or the person's follow-up to deliver, or "end" when none comes (idle deadline, "finish now"). */
    const nextPrompt = async (turn: number): Promise<"deliver" | "end" | typeof ENDED> => {
      if (!waitsForFollowups) {
        // Nobody is waited for, but a failed round of checks still goes back to the agent.
        return (await guarded(stepId("awaiting_followup", "checks", { turn }), () => checksRoundStage(rt, taskId, agentSession))) ? "deliver" : "end";
      }
      await guarded(stepId("awaiting_followup", "begin", { turn }), () => awaitFollowupStage(rt, taskId, agentSession));
      const next = await waitFor(tools, { name: stepId("awaiting_followup", "wait", { turn }), taskId, listen: WAIT_EVENTS.awaiting_followup, check: () => followupReadiness(rt, taskId), totalMs: rt.config.SESSION_IDLE_TIMEOUT, ...slices });
      if (next === ENDED) return ENDED;
      if (next === "timeout" || next === "finish") {
        await guarded(stepId("awaiting_followup", "end", { turn }), () => endFollowupsStage(rt, taskId, next === "timeout" ? "idle" : "finish"));
        return "end";
      }
      return "deliver";
    };
    /** The turn's commit's CI on its pull request, watched until it has a verdict (or a follow-up, "finish", CI_WAIT_TIMEOUT). */
    const watchCi = async (turn: number): Promise<CiNext | typeof ENDED> => {
      const watch = await guarded(stepId("awaiting_ci", "begin", { turn }), () => ciWatchStage(rt, taskId, agentSession));
      if (watch === ENDED) return ENDED;
      if (!watch.watch) return "go-on";
      const seen = await waitFor(tools, {
        name: stepId("awaiting_ci", "wait", { turn }),
        taskId,
        listen: WAIT_EVENTS.awaiting_ci,
        check: () => ciReadiness(rt, taskId, agentSession, watch),
        totalMs: rt.config.CI_WAIT_TIMEOUT,
        firstSliceMs: rt.config.CI_POLL_INTERVAL,
        maxSliceMs: rt.config.CI_POLL_MAX,
        checkIn,
      });
      if (seen === ENDED) return ENDED;
      return guarded(stepId("awaiting_ci", "end", { turn }), () => ciEndStage(rt, taskId, agentSession, watch.turn, seen));
    };
    let agentState = await waitFor(tools, { name: stepId("running", "wait", { turn: 1 }), taskId, listen: WAIT_EVENTS.running, check: () => agentReadiness(rt, taskId, agentSession), totalMs: rt.config.AGENT_MAX_EXECUTION, ...slices });
    // After each turn: its pull request and its CI (lib/pipeline/ci.ts), then wait for a follow-up
    // (SESSION_IDLE_TIMEOUT; 0 waits for none), send it to the same session as the next turn and
    // wait for that turn, until the idle deadline or "finish now".
    for (let k = 1; agentState === "completed"; k++) {
      await pullRequest(k);
      const ci = await watchCi(k);
      if (ci === ENDED) return finish("ended");
      if (ci === "finish") {
        await guarded(stepId("awaiting_followup", "end", { turn: k }), () => endFollowupsStage(rt, taskId, "finish"));
        break;
      }
      // CI failed (or the person wrote while it ran): the queued follow-up goes to the agent now.
      const next = ci === "deliver" ? ci : await nextPrompt(k);
      if (next === ENDED) return finish("ended");
      if (next === "end") break;
      const delivered = await guarded(stepId("awaiting_followup", "deliver", { turn: k }), () => permanentFailuresFail(() => deliverFollowupsStage(rt, taskId, agentSession)));
      if (delivered === ENDED) return finish("ended");
      if (delivered === LOST) {
        agentState = LOST;
        break;
      }
      agentState = await waitFor(tools, { name: stepId("running", "wait", { turn: k + 1 }), taskId, listen: WAIT_EVENTS.running, check: () => agentReadiness(rt, taskId, agentSession), totalMs: rt.config.AGENT_MAX_EXECUTION, ...slices });
    }
    if (agentState === "completed") {
      await guarded(stepId("running", "complete"), () => completeTaskStage(rt, taskId));
      return finish("completed");
    }
    if (agentState === LOST) await fail(await step.run(stepId("running", "describe-loss"), () => lostWhileWorking(rt, taskId)), "running");
    else if (agentState === "timeout") await fail(`agent session ${agentSession} did not finish within ${toInngestDuration(rt.config.AGENT_MAX_EXECUTION)}`, "running");
    else if (agentState === "failed") await fail(`agent session ${agentSession} failed`, "running");
    return finish(agentState === ENDED ? "ended" : "failed");
  },
);
