/**
 * What happens to an agent's work when it exits: everything is committed on the branch (with an
 * `Agent-Session` trailer), pushed when the clone has an `origin` and pushing is on, and reported in
 * one completion callback. A failed push does not fail the session; its message goes in `error`.
 */
import type { AgentCompletedCallback, Attribution, TurnDiff } from "../lib/contracts/vm-agent";
import { formatMs } from "./exec";
import * as git from "./git";
import type { SessionRecord } from "./state/schemas";

/** A commit subject from the prompt: its first line, at most 72 characters. */
export const firstLine = (prompt: string) => prompt.split("\n")[0]!.trim().slice(0, 72) || "Agent changes";

/** Keeps a message short enough for a callback body, keeping its end (where errors are). */
export const clip = (text: string, max = 8_000) => (text.length > max ? `…${text.slice(-max)}` : text);

/** Several problems as one message; undefined when there are none. */
export const joinErrors = (...parts: (string | undefined)[]) => parts.filter(Boolean).join("; ") || undefined;

/** `pushFailed`: the commit is made but the push was refused (the error says why). */
export type Committed = { commit: string | null; pushed: boolean; error?: string; pushFailed?: boolean };

/** How many times a push that found the remote branch moved rebases and tries again (each time someone pushed in between). */
const PUSH_ATTEMPTS = 3;

/** The commit message: the subject, then git trailers (the session, the task's page, the person who asked as co-author). */
export function commitMessage(subject: string, sessionId: string, attribution?: Attribution) {
  const trailers = [`Agent-Session: ${sessionId}`];
  if (attribution?.taskUrl) trailers.push(`Agent-Task: ${attribution.taskUrl}`);
  if (attribution?.requestedBy) trailers.push(`Co-authored-by: ${attribution.requestedBy.name} <${attribution.requestedBy.email}>`);
  return `${subject}\n\n${trailers.join("\n")}`;
}

/**
 * Commits the worktree's changes (if any) and pushes the branch; `error` carries what went wrong.
 * A push is never forced: when the remote branch moved, the agent's commits are rebased onto it and
 * pushed again, or the conflict is reported (the commits stay on the node, unpushed).
 */
export async function commitAndPush(
  worktree: string,
  options: { subject: string; sessionId: string; attribution?: Attribution; branch?: string; push: boolean; as: git.GitAs; remote?: git.PushSource },
): Promise<Committed> {
  let commit: string | null = null;
  try {
    await git.commitAll(worktree, commitMessage(options.subject, options.sessionId, options.attribution), options.as);
    commit = await git.headCommit(worktree, options.as);
  } catch (error) {
    return { commit, pushed: false, error: `commit failed: ${(error as Error).message}` };
  }
  if (!options.push || !options.branch || !options.remote || !commit) return { commit, pushed: false };
  for (let attempt = 1; ; attempt++) {
    try {
      await git.pushCommit(options.remote, options.branch, commit);
      return { commit, pushed: true };
    } catch (error) {
      if (!git.isBehindRemote(error) || attempt >= PUSH_ATTEMPTS) return { commit, pushed: false, pushFailed: true, error: `push failed: ${(error as Error).message}` };
    }
    try {
      const rebased = await git.rebaseOntoRemote(worktree, options.remote, options.branch, options.as);
      if ("conflict" in rebased) {
        const files = rebased.conflict.slice(0, 10).join(", ") + (rebased.conflict.length > 10 ? `, … (${rebased.conflict.length} files)` : "");
        return { commit, pushed: false, pushFailed: true, error: `push failed: the remote branch ${options.branch} moved (now ${rebased.onto.slice(0, 12)}) and the agent's commits conflict with it in ${files}; nothing was force-pushed, the commits are kept on the node` };
      }
      commit = rebased.head;
    } catch (error) {
      return { commit, pushed: false, pushFailed: true, error: `push failed: the remote branch ${options.branch} moved, and rebasing onto it failed: ${(error as Error).message}` };
    }
  }
}

/** Why the agent's run ended badly, from how its runtime ended (undefined for a clean exit 0). */
export function runError(run: { state: string; exitCode?: number | null; timedOut?: boolean }, timeoutMs: number, logTail: string): string | undefined {
  if (run.timedOut) return `agent timed out after ${formatMs(timeoutMs)} and was killed${logTail}`;
  if (run.state === "vanished") return "the agent's tmux session vanished without an exit code";
  if (run.exitCode !== 0) return `agent exited with code ${run.exitCode}${logTail}`;
  return undefined;
}

/** The completion callback's message id: one per session turn, so a turn is reported once. */
export const completionMessageId = (session: Pick<SessionRecord, "sessionId" | "turn">) => `${session.sessionId}-t${session.turn}-completed`;

/**
 * The completion callback's body; it succeeded iff the agent exited 0 and its work was committed,
 * or, for an interrupted turn (whose agent's exit is the interrupt's doing), iff its work was committed.
 */
export function completionBody(session: SessionRecord, branch: string, messageId: string, diff?: TurnDiff): AgentCompletedCallback {
  const exitedWell = session.interrupt !== undefined || (session.exitCode === 0 && !session.error?.includes("vanished"));
  const succeeded = exitedWell && !!session.commit;
  return {
    messageId,
    workspaceId: session.workspaceId,
    outcome: succeeded ? "succeeded" : "failed",
    exitCode: session.exitCode ?? null,
    branch,
    commit: session.commit ?? null,
    pushed: session.pushed ?? false,
    ...(session.pushFailed ? { pushFailed: true } : {}),
    ...(session.error ? { error: clip(session.error) } : {}),
    turn: session.turn,
    ...(diff ? { diff } : {}),
    ...(session.usage ? { usage: session.usage } : {}),
    ...(session.summary ? { summary: session.summary } : {}),
    ...(session.checkResult ? { checks: session.checkResult } : {}),
    ...(session.interrupt ? { interrupted: { reason: session.interrupt.reason } } : {}),
  };
}
