/**
 * A task's base branch must be one of its repository's branches. For a local repository (local
 * mode) the control plane can see them at once and refuses a wrong name at submit; for a remote
 * one the node checks after its clone, with the owner's credentials, and the task fails at once
 * naming the repository's branches (vm-agent/git.ts createBranch).
 */
import { execFile } from "node:child_process";
import { localPath } from "./repository-policy";

export class BaseBranchRefusedError extends Error {
  override readonly name = "BaseBranchRefusedError";
}

/** The branches of a local repository, or undefined when git cannot list them here. */
function localBranches(repositoryPath: string): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    // Only git's own settings: the repository is the operator's, but nothing of the app's environment is needed.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_TERMINAL_PROMPT: "0" };
    execFile("git", ["ls-remote", "--heads", "--", repositoryPath], { env: env as NodeJS.ProcessEnv, timeout: 10_000, encoding: "utf8" }, (error, stdout) => {
      if (error) return resolve(undefined);
      resolve(stdout.split("\n").flatMap((line) => /\srefs\/heads\/(.+)$/.exec(line)?.[1] ?? []));
    });
  });
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
