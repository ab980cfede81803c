/**
 * Best of N, the person's pick (`POST /api/tasks/{id}/pick`): one candidate with pushed work gets
 * the task's one pull request; the others still working are cancelled, and their branches are
 * deleted or kept as the person chose (deleted through the forge's API, or in a local repository
 * with git; on another host they are kept and the answer says so).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { tasks } from "@/db/schema";
import type { Config } from "../config";
import type { PickCandidateRequest, TaskGroupView, TaskStatus } from "../contracts/api";
import type { KeyRing } from "../envelope";
import { ForgeError } from "../forge/forge";
import { githubForgeFactory } from "../forge/github";
import { syncPullRequest } from "../forge/pull-requests";
import { forgeRepositoryOf } from "../forge-target";
import { taskGroupView } from "../groups/view";
import { publishTaskChange } from "../live/publish";
import { log } from "../log";
import { secretValues } from "../secrets/store";
import { cancelTask } from "./cancel-task";
import { isTerminal } from "./state-machine";
import { localPath } from "./repository-policy";
import type { WakeDeps } from "./wake-run";

const execFileAsync = promisify(execFile);

type Deps = WakeDeps & { db: Db; config: Config; secrets: KeyRing };
type Member = typeof tasks.$inferSelect;

export type PickResult =
  | { outcome: "picked"; group: TaskGroupView }
  | { outcome: "not_found" }
  | { outcome: "not_grouped" }
  | { outcome: "not_candidate" }
  | { outcome: "already_picked"; pickedTaskId: string }
  | { outcome: "not_ready"; candidate: number; status: TaskStatus };

/** Deletes the branches; answers whether they are gone (false: kept, this host's branches cannot be deleted from here). */
async function deleteBranches(deps: Deps, userId: string, repository: string, branches: string[]): Promise<boolean> {
  if (!branches.length) return true;
  const onForge = forgeRepositoryOf(repository, deps.config.GITHUB_URL);
  if (onForge) {
    const { GITHUB_TOKEN: token } = await secretValues(deps.db, deps.secrets, userId, ["GITHUB_TOKEN"]);
    if (!token) return false;
    const forge = githubForgeFactory(deps.config)(onForge, token);
    try {
      for (const branch of branches) await forge.deleteBranch(branch);
      return true;
    } catch (error) {
      if (!(error instanceof ForgeError)) throw error;
      log.warn("the other candidates' branches could not be deleted", { repository, error: error.message });
      return false;
    }
  }
  const local = localPath(repository);
  if (!local) return false;
  // Only git's own settings and no hooks: the repository is the operator's, the refs are the candidates'.
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1" };
  try {
    for (const branch of branches) await execFileAsync("git", ["-c", "core.fsmonitor=false", "-C", local, "update-ref", "-d", `refs/heads/${branch}`], { env: env as NodeJS.ProcessEnv, timeout: 10_000 });
    return true;
  } catch (error) {
    log.warn("the other candidates' branches could not be deleted", { repository, error: String(error) });
    return false;
  }
}

export async function pickCandidate(deps: Deps, ownerId: string, taskId: string, request: { taskId: string; otherBranches: PickCandidateRequest["otherBranches"] }): Promise<PickResult> {
  const [task] = await deps.db.select().from(tasks).where(eq(tasks.id, taskId));
  if (!task || task.userId !== ownerId) return { outcome: "not_found" };
  if (!task.groupId) return { outcome: "not_grouped" };
  const members: Member[] = await deps.db.select().from(tasks).where(eq(tasks.groupId, task.groupId));
  const leader = members.find((m) => m.id === task.groupId)!;
  const picked = members.find((m) => m.id === request.taskId);
  if (!picked) return { outcome: "not_candidate" };
  if (leader.pickedTaskId) return { outcome: "already_picked", pickedTaskId: leader.pickedTaskId };
  if (picked.status !== "completed" || !picked.pushed || !picked.commitSha) return { outcome: "not_ready", candidate: picked.candidate ?? 1, status: picked.status };

  const others = members.filter((m) => m.id !== picked.id);
  const wanted = request.otherBranches === "delete";
  // The pick is recorded once: two picks at once, one wins.
  const recorded = await deps.db
    .update(tasks)
    .set({ pickedTaskId: picked.id, pickedAt: new Date(), otherBranches: wanted ? "deleted" : "kept" })
    .where(and(eq(tasks.id, leader.id), isNull(tasks.pickedTaskId)))
    .returning({ id: tasks.id });
  if (!recorded.length) return { outcome: "already_picked", pickedTaskId: (await deps.db.select({ id: tasks.pickedTaskId }).from(tasks).where(eq(tasks.id, leader.id)))[0]?.id ?? "" };

  for (const other of others) if (!isTerminal(other.status)) await cancelTask(deps, ownerId, other.id, `candidate ${picked.candidate} was picked`);
  if (wanted && !(await deleteBranches(deps, ownerId, task.repository, others.filter((o) => o.pushed).map((o) => o.branch)))) {
    await deps.db.update(tasks).set({ otherBranches: "kept" }).where(eq(tasks.id, leader.id));
  }
  // The picked one's work gets the task's pull request now (a forge that fails says so on its page).
  await syncPullRequest({ db: deps.db, secrets: deps.secrets, config: deps.config }, picked.id);
  for (const member of members) await publishTaskChange(deps.db, member.id, "result");
  return { outcome: "picked", group: (await taskGroupView(deps.db, deps.config, task.groupId))! };
}
