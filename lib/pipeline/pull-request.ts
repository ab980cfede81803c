/**
 * After each turn that pushed: the task's pull request is opened or updated (lib/forge). A forge
 * that failed for a while asks for another try later; the run sleeps until then (never a loop
 * inside a step), so a 5xx or a rate limit costs no worker while it waits.
 */
import { syncPullRequest, type SyncOutcome } from "../forge/pull-requests";
import type { Runtime } from "../runtime";
import { getTask } from "../tasks/queries";
import { isTerminal } from "../tasks/state-machine";
import { ENDED } from "./placement";

export async function pullRequestStage(rt: Runtime, taskId: string): Promise<SyncOutcome | typeof ENDED> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  return syncPullRequest({ db: rt.db, secrets: rt.secrets, config: rt.config }, taskId);
}
