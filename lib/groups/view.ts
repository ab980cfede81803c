/**
 * Best of N: the candidates of one submission side by side, ranked by evidence. Each ran the
 * repository's checks, so the ranking is the repository's own verdict first: checks passed, then
 * its pull request CI passed (known only for the picked one: candidates open no pull request), then
 * the smaller diff, then the lower cost, then the order they were started in.
 */
import { asc, eq, inArray } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, tasks } from "@/db/schema";
import type { CandidateView, TaskGroupView } from "../contracts/api";
import { taskChecks } from "../checks/rounds";
import { taskCi } from "../ci/rounds";
import { newestTurnSummary, taskDiffSummary } from "../sessions/turns";
import { usageOfTasks } from "../usage/reads";

type Unranked = Omit<CandidateView, "rank">;

/** Lower is better: passed, none declared, not yet run, failing. */
const CHECKS_ORDER: Record<string, number> = { passed: 0, none: 1, unknown: 2, fixing: 3, failing: 3 };
const CI_ORDER: Record<string, number> = { passed: 0, none: 1, unknown: 1, pending: 1, unwatched: 1, fixing: 2, failing: 2 };
/** A candidate with nothing to show (failed, cancelled, no commit) comes last whatever else it has. */
const hasWork = (c: Unranked) => (c.commit && c.status !== "failed" && c.status !== "cancelled" ? 0 : 1);

/** The ranking's comparison, evidence first (see the module's note). */
export function compareCandidates(a: Unranked, b: Unranked): number {
  const size = (c: Unranked) => (c.diff ? c.diff.added + c.diff.removed : Number.POSITIVE_INFINITY);
  const keys = (c: Unranked) => [hasWork(c), CHECKS_ORDER[c.checks?.state ?? "unknown"]!, CI_ORDER[c.ci?.state ?? "unknown"]!, size(c), c.costUsd ?? Number.POSITIVE_INFINITY, c.candidate];
  const [ka, kb] = [keys(a), keys(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
}

/** The group `groupId` as its comparison shows it; undefined when no such group. */
export async function taskGroupView(executor: Executor, config: { MAX_CHECK_ROUNDS: number; MAX_CI_ROUNDS: number }, groupId: string): Promise<TaskGroupView | undefined> {
  const members = await executor.select().from(tasks).where(eq(tasks.groupId, groupId)).orderBy(asc(tasks.candidate));
  const leader = members.find((m) => m.id === groupId);
  if (!leader) return undefined;
  const workspaceIds = members.map((m) => m.workspaceId).filter((id): id is string => id !== null);
  const sessions = workspaceIds.length ? await executor.select({ id: agentSessions.id, workspaceId: agentSessions.workspaceId }).from(agentSessions).where(inArray(agentSessions.workspaceId, workspaceIds)) : [];
  const usage = await usageOfTasks(executor, members.map((m) => m.id));
  const unranked: Unranked[] = await Promise.all(
    members.map(async (m) => {
      const sessionId = sessions.find((s) => s.workspaceId === m.workspaceId)?.id;
      const ended = m.status === "completed" || m.status === "failed" || m.status === "cancelled";
      const [checks, ci, diff, summary] = await Promise.all([
        taskChecks(executor, m.id, sessionId, config.MAX_CHECK_ROUNDS, ended),
        taskCi(executor, m.id, sessionId, config.MAX_CI_ROUNDS, ended),
        taskDiffSummary(executor, m.id),
        newestTurnSummary(executor, m.id),
      ]);
      return {
        taskId: m.id,
        candidate: m.candidate ?? 1,
        status: m.status,
        executionStep: m.executionStep as CandidateView["executionStep"],
        branch: m.branch,
        commit: m.commitSha,
        checks: checks ? { state: checks.state, summary: checks.summary } : null,
        ci: ci ? { state: ci.state, summary: ci.summary } : null,
        diff: diff ? { files: diff.files.length, added: diff.added, removed: diff.removed } : null,
        costUsd: usage.get(m.id)?.costUsd ?? null,
        summary: summary?.summary ?? null,
        error: m.errorMessage,
        picked: leader.pickedTaskId === m.id,
      };
    }),
  );
  const candidates = [...unranked].sort(compareCandidates).map((c, i) => ({ ...c, rank: i + 1 }));
  return { id: groupId, size: members.length, candidates, pickedTaskId: leader.pickedTaskId, pickedAt: leader.pickedAt?.toISOString() ?? null, otherBranches: leader.otherBranches };
}

/** Whether the task is a candidate not (yet) picked: it opens no pull request, and waits for no follow-up. */
export async function isUnpickedCandidate(executor: Executor, task: { id: string; groupId: string | null }): Promise<boolean> {
  if (!task.groupId) return false;
  const [leader] = await executor.select({ picked: tasks.pickedTaskId }).from(tasks).where(eq(tasks.id, task.groupId));
  return leader?.picked !== task.id;
}
