/**
 * A task's one pull request, for its whole life. After each turn that pushed, `syncPullRequest`
 * opens it as a draft (title from the task, body with the prompt, the turns and a link back) or
 * updates the one it opened; a pull request GitHub already has for the branch ("A pull request
 * already exists") is adopted, never duplicated. A local repository or another host has no forge:
 * its branch is pushed and nothing more. A transient failure (5xx, no answer, rate limit) asks the
 * run to try again later (`retryAt`) up to FORGE_RETRIES times; every other failure, or one that
 * kept failing, is recorded on the task, whose work stays pushed either way.
 */
import { and, asc, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { pullRequests, taskMessages, tasks, users } from "@/db/schema";
import type { Config } from "../config";
import type { PullRequestView as PullRequestApiView } from "../contracts/api";
import { OPEN_PULL_REQUEST_STATES } from "../contracts/statuses";
import { publishTaskChange } from "../live/publish";
import { briefTitle } from "../operations/titles";
import { newestTurnSummary, taskDiffSummary } from "../sessions/turns";
import { newestTaskChecks } from "../checks/rounds";
import { checkOutcome } from "../contracts/checks";
import type { KeyRing } from "../envelope";
import { secretValues } from "../secrets/store";
import { ForgeError, type Forge } from "./forge";
import { githubForge } from "./github";
import { forgeRepositoryOf, type ForgeRepository } from "../forge-target";

type TaskRow = typeof tasks.$inferSelect;
type Source = { db: Executor; secrets: KeyRing; config: Config; now?: () => number };
export type ForgeFactory = (repository: ForgeRepository, token: string) => Forge;

export type SyncOutcome =
  /** `held`: a best-of-N candidate not picked (yet) opens none. */
  | { outcome: "no-forge" | "not-pushed" | "synced" | "failed" | "held"; state?: string }
  /** Worth trying again at this time (ISO): the run sleeps until then. */
  | { outcome: "retry"; retryAt: string };

const defaultForge = (config: Config): ForgeFactory => (repository, token) => githubForge({ apiUrl: config.GITHUB_API_URL, token, repository, timeoutMs: config.FORGE_REQUEST_TIMEOUT });

export const taskUrl = (config: Pick<Config, "APP_URL">, taskId: string) => `${config.APP_URL.replace(/\/+$/, "")}/tasks/${taskId}`;

const quote = (text: string, max = 4_000) =>
  (text.length > max ? `${text.slice(0, max)}…` : text)
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");

/** The pull request's body: the task, each follow-up by turn, the agent's own account of its work, where the branch is, and the way back to the task. */
async function pullRequestBody(db: Executor, config: Config, task: TaskRow) {
  const [owner] = await db.select({ name: users.name }).from(users).where(eq(users.id, task.userId));
  const followups = await db
    .select({ body: taskMessages.body, turn: taskMessages.turn })
    .from(taskMessages)
    .where(and(eq(taskMessages.taskId, task.id), isNotNull(taskMessages.turn)))
    .orderBy(asc(taskMessages.id));
  const lines = [quote(task.prompt), ""];
  if (followups.length) {
    lines.push("**Follow-ups**", "");
    for (const message of followups) lines.push(`- turn ${message.turn}: ${briefTitle(message.body, 200)}`);
    lines.push("");
  }
  const summary = await newestTurnSummary(db, task.id);
  if (summary) {
    // What the agent said it did, in its own closing words: quoted, as it is the agent's, not ours.
    lines.push(`**Agent's summary** (turn ${summary.turn})`, "", quote(summary.summary), "");
  }
  const diff = await taskDiffSummary(db, task.id);
  if (diff) {
    // The turn's summary: what the branch changes now, file by file (the first 20).
    lines.push(`**After turn ${diff.turn}**: ${diff.files.length} ${diff.files.length === 1 ? "file" : "files"} changed, +${diff.added} −${diff.removed}`, "");
    for (const file of diff.files.slice(0, 20)) lines.push(`- \`${file.path}\`${file.added === null ? " (binary)" : ` +${file.added} −${file.removed}`}`);
    if (diff.files.length > 20) lines.push(`- … and ${diff.files.length - 20} more`);
    lines.push("");
  }
  const checks = await newestTaskChecks(db, task.id);
  if (checks && checks.source !== "none") {
    // The evidence: what the node ran after the newest turn, and how each command ended.
    lines.push(`**Checks** (${checks.source}): ${checks.passed ? "passed" : "failing"}`, "");
    if (checks.error) lines.push(`- ${checks.error}`);
    for (const c of checks.commands) lines.push(`- \`${c.command}\`: ${checkOutcome(c)} in ${(c.durationMs / 1000).toFixed(1)} s`);
    lines.push("");
  }
  if (task.commitSha) lines.push(`Latest commit: ${task.commitSha}`, "");
  lines.push(`---`, `Opened by the agent control plane for ${owner?.name ?? "its owner"} (${task.agent}). [Open the task](${taskUrl(config, task.id)}) to follow the agent, answer it or finish it. This pull request is updated after every turn.`);
  return lines.join("\n");
}

async function record(db: Executor, taskId: string, repository: ForgeRepository, change: Partial<typeof pullRequests.$inferInsert>) {
  await db
    .insert(pullRequests)
    .values({ taskId, forge: repository.forge, repository: `${repository.owner}/${repository.name}`, ...change })
    .onConflictDoUpdate({ target: pullRequests.taskId, set: { ...change, updatedAt: sql`now()` } });
  await publishTaskChange(db, taskId, "result");
}

export async function getPullRequest(db: Executor, taskId: string) {
  const [row] = await db.select().from(pullRequests).where(eq(pullRequests.taskId, taskId));
  return row;
}

/** What the task page shows: the link and state, or why there is none. */
export async function pullRequestView(db: Executor, taskId: string): Promise<PullRequestApiView | null> {
  const row = await getPullRequest(db, taskId);
  if (!row) return null;
  return { forge: row.forge as "github", repository: row.repository, number: row.number, url: row.url, state: row.state, error: row.error, updatedAt: row.updatedAt.toISOString() };
}

export async function syncPullRequest(source: Source, taskId: string, makeForge: ForgeFactory = defaultForge(source.config)): Promise<SyncOutcome> {
  const { db, config } = source;
  const [task] = await db.select().from(tasks).where(eq(tasks.id, taskId));
  if (!task) return { outcome: "no-forge" };
  const repository = forgeRepositoryOf(task.repository, config.GITHUB_URL);
  if (!repository) return { outcome: "no-forge" };
  if (!task.pushed || !task.commitSha) return { outcome: "not-pushed" };
  const existing = await getPullRequest(db, taskId);
  const { GITHUB_TOKEN: token } = await secretValues(db, source.secrets, task.userId, ["GITHUB_TOKEN"]);
  if (!token) {
    await record(db, taskId, repository, { error: "No pull request: the branch is pushed, but the task's owner has no GITHUB_TOKEN (Settings → Secrets) to open one with", retries: 0 });
    return { outcome: "failed" };
  }
  const forge = makeForge(repository, token);
  const body = await pullRequestBody(db, config, task);
  try {
    let pull = existing?.number ? await forge.update(existing.number, { body }) : undefined;
    if (!pull) {
      try {
        pull = await forge.open({ head: task.branch, base: task.baseBranch ?? "main", title: briefTitle(task.prompt, 72) || "Agent changes", body, draft: true });
      } catch (error) {
        if (!(error instanceof ForgeError && error.kind === "exists")) throw error;
        // Opened before (a retried step whose answer was lost, or by hand): that one is the task's.
        const found = await forge.findByBranch(task.branch);
        if (!found) throw error;
        pull = await forge.update(found.number, { body });
      }
    }
    // Ready for review only with evidence: a draft while the newest checks fail, ready once they pass.
    const checks = config.PR_READY_WHEN_GREEN ? await newestTaskChecks(db, taskId) : undefined;
    if (checks && checks.source !== "none" && (pull.state === "draft" || pull.state === "open") && (pull.state === "draft") === checks.passed) pull = await forge.setDraft(pull.number, !checks.passed);
    await record(db, taskId, repository, { number: pull.number, url: pull.url, state: pull.state, headCommit: pull.headCommit, error: null, retries: 0 });
    return { outcome: "synced", state: pull.state };
  } catch (error) {
    const failure = error instanceof ForgeError ? error : new ForgeError("unavailable", (error as Error).message);
    const retries = (existing?.retries ?? 0) + 1;
    const now = source.now?.() ?? Date.now();
    if (failure.transient && retries <= config.FORGE_RETRIES) {
      const backoff = config.FORGE_RETRY_BACKOFF * 2 ** (retries - 1);
      const at = failure.retryAt ? Math.max(failure.retryAt.getTime(), now) : now + backoff;
      if (at - now <= config.FORGE_RATE_LIMIT_MAX_WAIT) {
        await record(db, taskId, repository, { error: `${failure.message} (trying again at ${new Date(at).toISOString()})`, retries });
        return { outcome: "retry", retryAt: new Date(at).toISOString() };
      }
    }
    const gaveUp = failure.transient ? ` (gave up after ${retries} tries)` : "";
    await record(db, taskId, repository, { error: `${existing?.number ? "The pull request could not be updated" : "No pull request"}: ${failure.message}${gaveUp}`, retries: 0 });
    return { outcome: "failed" };
  }
}

/**
 * Reads again the state of open pull requests last synced `olderThanMs` ago or more (a person may
 * merge or close one on GitHub after the task ended), at most `limit` per pass; one that cannot be
 * read now is left for the next pass. Returns how many changed state.
 */
export async function refreshPullRequests(source: Source, olderThanMs: number, limit = 20, makeForge: ForgeFactory = defaultForge(source.config)): Promise<number> {
  const { db } = source;
  const stale = await db
    .select({ taskId: pullRequests.taskId, number: pullRequests.number, state: pullRequests.state, repository: pullRequests.repository, userId: tasks.userId, taskRepository: tasks.repository })
    .from(pullRequests)
    .innerJoin(tasks, eq(tasks.id, pullRequests.taskId))
    .where(and(isNotNull(pullRequests.number), inArray(pullRequests.state, OPEN_PULL_REQUEST_STATES), lte(pullRequests.updatedAt, new Date((source.now?.() ?? Date.now()) - olderThanMs))))
    .orderBy(asc(pullRequests.updatedAt))
    .limit(limit);
  let changed = 0;
  for (const row of stale) {
    const repository = forgeRepositoryOf(row.taskRepository, source.config.GITHUB_URL);
    const { GITHUB_TOKEN: token } = await secretValues(db, source.secrets, row.userId, ["GITHUB_TOKEN"]);
    if (!repository || !token) continue;
    try {
      const pull = await makeForge(repository, token).get(row.number!);
      // Touched either way, so the oldest go first on the next pass.
      await db.update(pullRequests).set({ state: pull.state, headCommit: pull.headCommit, updatedAt: sql`now()` }).where(eq(pullRequests.taskId, row.taskId));
      if (pull.state !== row.state) {
        changed++;
        await publishTaskChange(db, row.taskId, "result");
      }
    } catch (error) {
      if (!(error instanceof ForgeError)) throw error;
    }
  }
  return changed;
}
