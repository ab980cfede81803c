/**
 * Wakes a task's run after a person's change was committed (a cancel, a follow-up, finish now).
 * Best effort: the change is in the database, and the run sees it at its next check even when the
 * engine cannot take the wake now.
 */
import { taskWake, type SendEvents, type WakeReason } from "../contracts/events";

export async function wakeRun(send: SendEvents, taskId: string, reason: WakeReason, recorded: string) {
  try {
    await send(taskWake.create({ taskId, reason }));
  } catch (error) {
    console.error(JSON.stringify({ level: "warn", msg: `${recorded}; the wake could not be sent`, taskId, error: String(error) }));
  }
}
