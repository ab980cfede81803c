/**
 * Provisioning one workspace's worktree: clone, the task's branch, the git identity, the
 * repository's setup script. Each step is one program call with an argument array; a failure
 * names its stage (the provisioning-failed callback carries it).
 */
import fs from "node:fs";
import path from "node:path";
import type { VmAgentConfig } from "./config";
import { run } from "./exec";
import * as git from "./git";
import { agentEnvironment } from "./agents/commands";

export type ProvisionStage = "clone" | "branch" | "git-identity" | "git-credentials" | "setup";

export class StageError extends Error {
  constructor(
    readonly stage: ProvisionStage,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export type ProvisionConfig = Pick<VmAgentConfig, "SETUP_SCRIPT" | "SETUP_TIMEOUT" | "GIT_AUTHOR_NAME" | "GIT_AUTHOR_EMAIL">;

export type Provisioned = { baseCommit: string; setupScript: "ran" | "absent" };

async function stage<T>(name: ProvisionStage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StageError(name, error);
  }
}

/**
 * How the workspace's git gets credentials: `daemonGit` for the clone (the daemon's own call),
 * `agentHelper` written to the worktree's config for the agent's git. Neither holds a secret.
 */
export type ProvisionCredentials = { daemonGit: git.GitAuth; agentHelper: string };

/** Builds `<dir>/repo` from nothing (a leftover of an interrupted attempt is removed first). */
export async function provisionWorktree(
  dir: string,
  workspace: { repository: string; branch: string; gitIdentity?: { name: string; email: string } },
  config: ProvisionConfig,
  credentials: ProvisionCredentials,
  control: { signal?: AbortSignal } = {},
): Promise<Provisioned> {
  const worktree = path.join(dir, "repo");
  await stage("clone", async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    await git.clone(workspace.repository, worktree, dir, credentials.daemonGit);
  });
  await stage("branch", () => git.createBranch(worktree, workspace.branch));
  const identity = workspace.gitIdentity ?? { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL };
  await stage("git-identity", () => git.setIdentity(worktree, identity.name, identity.email));
  await stage("git-credentials", () => git.setCredentialHelper(worktree, credentials.agentHelper));
  // The script must be inside the worktree (SETUP_SCRIPT is relative to it). It runs with the
  // agents' allow-listed environment and no secret: no model key, and no ticket, so the worktree's
  // credential helper answers it nothing; git fails rather than waiting on a prompt.
  const script = path.resolve(worktree, config.SETUP_SCRIPT);
  const hasSetup = script.startsWith(worktree + path.sep) && fs.existsSync(script);
  if (hasSetup) await stage("setup", () => run("bash", [script], {
        cwd: worktree,
        env: agentEnvironment({ GIT_TERMINAL_PROMPT: "0" }),
        timeoutMs: config.SETUP_TIMEOUT,
        group: true,
        label: `setup script ${config.SETUP_SCRIPT}`,
        signal: control.signal,
      }));
  const baseCommit = await stage("setup", () => git.headCommit(worktree));
  return { baseCommit, setupScript: hasSetup ? "ran" : "absent" };
}
