/**
 * A task's base branch must be one of its repository's branches. For a local repository (local
 * mode) the control plane can see them at once and refuses a wrong name at submit; for a remote
 * one the node checks after its clone, with the owner's credentials, and the task fails at once
 * naming the repository's branches (vm-agent/git.ts createBranch).
 */
import { execFile } from "node:child_process";
import type { Executor } from "@/db/client";
import type { Config } from "../config";
import { MAX_LISTED_BRANCHES, type RepositoryBranches } from "../forge/forge";
import { githubForge } from "../forge/github";
import { forgeRepositoryOf } from "../forge-target";
import type { KeyRing } from "../envelope";
import { secretValues } from "../secrets/store";
import { localPath, RepositoryRefusedError } from "./repository-policy";

export class BaseBranchRefusedError extends Error {
  override readonly name = "BaseBranchRefusedError";
}

/** A local repository's branches and the one its HEAD names, or undefined when git cannot list them here. */
function localRepositoryBranches(repositoryPath: string): Promise<RepositoryBranches | undefined> {
  return new Promise((resolve) => {
    // Only git's own settings: the repository is the operator's, but nothing of the app's environment is needed.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_TERMINAL_PROMPT: "0" };
    execFile("git", ["ls-remote", "--symref", "--", repositoryPath, "HEAD", "refs/heads/*"], { env: env as NodeJS.ProcessEnv, timeout: 10_000, encoding: "utf8" }, (error, stdout) => {
      if (error) return resolve(undefined);
      const lines = stdout.split("\n");
      const branches = lines.flatMap((line) => /^[0-9a-f]+\s+refs\/heads\/(.+)$/.exec(line)?.[1] ?? []);
      const defaultBranch = lines.map((line) => /^ref: refs\/heads\/(\S+)\s+HEAD$/.exec(line)?.[1]).find(Boolean) ?? null;
      resolve({ branches: branches.slice(0, MAX_LISTED_BRANCHES), defaultBranch, truncated: branches.length > MAX_LISTED_BRANCHES });
    });
  });
}

const localBranches = async (repositoryPath: string) => (await localRepositoryBranches(repositoryPath))?.branches;

/**
 * The branches a submit form offers: a local repository's from git, a GitHub repository's from its
 * API with the person's token (a public one without); null for any other host, whose branches the
 * node reads after its clone.
 */
export async function repositoryBranches(source: { db: Executor; secrets: KeyRing; config: Config }, userId: string, repository: string): Promise<RepositoryBranches | null> {
  const local = localPath(repository);
  if (local) {
    const listed = await localRepositoryBranches(local);
    if (!listed) throw new RepositoryRefusedError(`${local} is not a git repository this control plane can read`);
    return listed;
  }
  const onForge = forgeRepositoryOf(repository, source.config.GITHUB_URL);
  if (!onForge) return null;
  const { GITHUB_TOKEN: token } = await secretValues(source.db, source.secrets, userId, ["GITHUB_TOKEN"]);
  return githubForge({ apiUrl: source.config.GITHUB_API_URL, token, repository: onForge, timeoutMs: source.config.FORGE_REQUEST_TIMEOUT }).listBranches();
}

export async function checkBaseBranch(repository: string, baseBranch: string | undefined) {
  const local = baseBranch ? localPath(repository) : undefined;
  if (!local) return;
  const branches = await localBranches(local);
  if (branches && !branches.includes(baseBranch!)) {
    const shown = branches.slice(0, 20).join(", ") || "none";
    throw new BaseBranchRefusedError(`the repository has no branch ${baseBranch}; its branches: ${shown}`);
  }
}
