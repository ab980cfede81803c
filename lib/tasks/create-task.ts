/**
 * Submitting a task: the row is committed first, then its first run is started (generation 0). If
 * that start fails (the engine is down, or this process dies right after the commit), the task is
 * still accepted: the reconciler starts its run once the engine answers.
 */
import { tasks, taskStatusEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import type { Config } from "../config";
import type { CreateTaskResponse } from "../contracts/api";
import type { AgentKind } from "../contracts/vm-agent";
import { modelSettingOf } from "../contracts/agents";
import type { EgressPolicy } from "../contracts/egress";
import { egressForNewTask } from "../egress/settings";
import { publishTaskChange } from "../live/publish";
import { branchName } from "./branch-name";
import { checkBaseBranch } from "./base-branch";
import { checkRepository } from "./repository-policy";
import { admitSubmission } from "./user-limits";
import { checkAgentSecrets } from "../secrets/agent-keys";
import { checkProviderToken } from "../secrets/provider-token";
import { log } from "../log";

/**
 * Starts a run of a task whose generation is committed: lib/runs/start.ts `startRun`, handed in by
 * the caller (lib/runs/ builds on lib/tasks/, so tasks never import it).
 */
export type StartRun = (run: { taskId: string; userId: string; generation: number }) => Promise<void>;

/** The agent's model when the submission names none: the setting its adapter names (an agent without a model has none). */
function defaultModel(config: Config, agent: AgentKind): string | undefined {
  const setting = modelSettingOf(agent);
  return setting && config[setting];
}

export async function createTask(
  deps: { db: Db; config: Config; userId: string; startRun: StartRun },
  input: { repository: string; prompt: string; agent: AgentKind; baseBranch?: string; model?: string; egress?: EgressPolicy; checks?: string[]; budgetUsd?: number; attempts?: number },
): Promise<CreateTaskResponse> {
  checkRepository(deps.config, input.repository);
  await checkBaseBranch(input.repository, input.baseBranch);
  await checkAgentSecrets(deps.db, deps.config, deps.userId, input.agent);
  await checkProviderToken(deps.db, deps.config, deps.userId);
  const egress = await egressForNewTask(deps.db, deps.config, deps.userId, input.repository, input.egress);
  // Best of N: N tasks, each its own branch and run from the same base, grouped under the first's id.
  const count = input.attempts ?? 1;
  const candidates = Array.from({ length: count }, () => {
    const id = crypto.randomUUID();
    return { taskId: id, branch: branchName(deps.config.BRANCH_PREFIX, input.prompt, id, deps.config.BRANCH_NAME_MAX) };
  });
  const groupId = count > 1 ? candidates[0]!.taskId : null;
  const { attempts: _count, ...fields } = input;
  await deps.db.transaction(async (tx) => {
    const model = input.model ?? defaultModel(deps.config, input.agent) ?? null;
    // 0 is no limit: stored as none. Each candidate has the whole budget: they are alternatives, and the person's day and month hold them together.
    const budgetUsd = (input.budgetUsd ?? deps.config.TASK_BUDGET_USD) || null;
    for (const [i, { taskId, branch }] of candidates.entries()) {
      // Limits keep people of a team from crowding each other out (checked with the insert, under the
      // person's lock, so submissions at once cannot pass them); the one local user is the operator.
      if (deps.config.AUTH_MODE === "team") await admitSubmission(tx, deps.config, deps.userId, taskId);
      await tx.insert(tasks).values({ id: taskId, userId: deps.userId, ...fields, model, egress, budgetUsd, status: "queued", branch, groupId, candidate: groupId ? i + 1 : null, runDispatchedAt: new Date() });
      await tx.insert(taskStatusEvents).values({ taskId, fromStatus: null, toStatus: "queued", actor: "user", reason: "submitted" });
      await publishTaskChange(tx, taskId, "created");
    }
  });
  for (const { taskId } of candidates) {
    try {
      await deps.startRun({ taskId, userId: deps.userId, generation: 0 });
    } catch (error) {
      log.warn("task accepted; its run starts when the engine answers", { taskId, error: String(error) });
    }
  }
  const [first] = candidates;
  return { taskId: first!.taskId, branch: first!.branch, status: "queued", ...(groupId ? { candidates } : {}) };
}
