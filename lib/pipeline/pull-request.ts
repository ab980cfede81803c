/**
 * After each turn that pushed: the task's pull request is opened or updated (lib/forge). A forge
 * that failed for a while asks for another try later; the run sleeps until then (never a loop
 * inside a step), so a 5xx or a rate limit costs no worker while it waits.
 */
import { syncPullRequest, type SyncOutcome } from "../forge/pull-requests";
import type { Runtime } from "../runtime";
import { ENDED, openStage } from "./stage";
import { isUnpickedCandidate } from "../groups/view";
import { endTurnStep } from "./finish";

export async function pullRequestStage(rt: Runtime, taskId: string, sessionId: string): Promise<SyncOutcome | typeof ENDED> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  // The first step after a turn: the turn's step ends here (ARCHITECTURE.md's one-second promise), whatever comes next.
  await endTurnStep(rt, stage.task, sessionId);
  // Best of N: only the candidate the person picks gets the task's pull request (lib/tasks/pick.ts opens it).
  if (await isUnpickedCandidate(rt.db, stage.task)) return { outcome: "held" };
  return syncPullRequest({ db: rt.db, secrets: rt.secrets, config: rt.config }, taskId);
}
