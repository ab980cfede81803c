/**
 * Provisioning one workspace's worktree: clone, the task's branch, the git identity, the
 * repository's setup script. Each step is one program call with an argument array; a failure
 * names its stage (the provisioning-failed callback carries it).
 */
import fs from "node:fs";
import path from "node:path";
import type { InheritedEnvironment, VmAgentConfig } from "./config";
import { run } from "./exec";
import * as git from "./git";
import { agentEnvironment } from "./agents/commands";
import type { EgressLaunch } from "./egress/network";
import { setupCommand } from "./setup-command";
import { killUserProcesses, userEnvironment, type WorkspaceUser } from "./users";
import { mkdirAs, removeWorkspaceFolder } from "./workspace-fs";

export type ProvisionStage = "workspace-user" | "clone" | "branch" | "git-identity" | "git-credentials" | "handover" | "network" | "setup";

/** Where stages and the setup output are reported as they happen (boot-log.ts); by default nowhere. */
export type StageReporter = {
  stage<T>(name: string, work: () => Promise<T>, detail?: string): Promise<T>;
  output(text: string, stream: "stdout" | "stderr"): void;
};
const UNREPORTED: StageReporter = { stage: (_name, work) => work(), output: () => {} };

export class StageError extends Error {
  constructor(
    readonly stage: ProvisionStage,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export type ProvisionConfig = Pick<VmAgentConfig, "SETUP_SCRIPT" | "SETUP_TIMEOUT" | "GIT_AUTHOR_NAME" | "GIT_AUTHOR_EMAIL">;

export type Provisioned = { baseCommit: string; baseBranch?: string; setupScript: "ran" | "absent" };

const staged =
  (reporter: StageReporter) =>
  async <T>(name: ProvisionStage, work: () => Promise<T>, detail?: string): Promise<T> => {
    try {
      return await reporter.stage(name, work, detail);
    } catch (error) {
      throw new StageError(name, error);
    }
  };

/**
 * How the workspace's git gets credentials: `daemonGit` for the clone (the daemon's own call),
 * `agentHelper` written to the worktree's config for the agent's git. Neither holds a secret.
 */
export type ProvisionCredentials = { daemonGit: string[]; agentHelper: string };

/**
 * Who the workspace runs as: `user()` gives (creating it) the workspace's own user, or undefined
 * when the node cannot isolate workspaces and everything runs as the daemon.
 */
export type ProvisionUser = { user: () => Promise<WorkspaceUser | undefined>; home: string; inherited: InheritedEnvironment };

/**
 * Builds `<dir>/repo` and `<dir>/home` from nothing (a leftover of an interrupted attempt is
 * removed first). With a workspace user, the folder is the daemon's and that user's group's only
 * (0750): the worktree and home are the user's, the agent's logs and environment files, and the
 * push repository (`push`), the daemon's. Root only clones (without a checkout, sharing no file
 * with a local source) into that folder, where nothing of the user's can be yet, and hands the
 * fresh `.git` over; every later step in the worktree (checkout, config, setup) runs as the user.
 */
export async function provisionWorktree(
  dir: string,
  workspace: { repository: string; branch: string; baseBranch?: string; gitIdentity?: { name: string; email: string } },
  config: ProvisionConfig,
  credentials: ProvisionCredentials,
  runAs: ProvisionUser,
  control: {
    signal?: AbortSignal;
    reporter?: StageReporter;
    push?: string;
    /** The workspace's network namespace and proxy, made before its setup script runs (egress/network.ts); none: the node's network. */
    network?: (user: WorkspaceUser | undefined) => Promise<EgressLaunch | undefined>;
  } = {},
): Promise<Provisioned & { user?: WorkspaceUser }> {
  const worktree = path.join(dir, "repo");
  const reporter = control.reporter ?? UNREPORTED;
  const stage = staged(reporter);
  const user = await stage("workspace-user", runAs.user);
  const as: git.GitAs = user ? { user, home: runAs.home, inherited: runAs.inherited } : { unisolated: true, inherited: runAs.inherited };
  await stage("clone", async () => {
    // What an earlier attempt's user left running could swap a folder for a link while root removes it.
    if (user) killUserProcesses(user.uid);
    await removeWorkspaceFolder(dir, user);
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (user) fs.chownSync(dir, 0, user.gid);
    fs.chmodSync(dir, user ? 0o750 : 0o700);
    await git.clone(workspace.repository, worktree, dir, runAs.inherited, credentials.daemonGit);
    if (control.push) await git.seedShadow({ shadow: control.push, as }, worktree);
    // Fresh files root just made in its own folder, none shared with the source (--no-local): no link to follow.
    if (user) await run("chown", ["-R", "--no-dereference", `${user.uid}:${user.gid}`, "--", worktree], { timeoutMs: 10 * 60_000 });
  });
  const baseBranch = await stage("branch", () => git.createBranch(worktree, workspace.branch, workspace.baseBranch, as));
  const identity = workspace.gitIdentity ?? { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL };
  await stage("git-identity", () => git.setIdentity(worktree, identity.name, identity.email, as));
  await stage("git-credentials", () => git.setCredentialHelper(worktree, credentials.agentHelper, as));
  await stage("handover", async () => {
    // The HOME is made by root in its own folder, given to the user, and filled by the user.
    fs.mkdirSync(runAs.home, { mode: 0o700 });
    if (user) fs.lchownSync(runAs.home, user.uid, user.gid);
    await mkdirAs(user, path.join(runAs.home, "tmp"));
  });
  // The script must be inside the worktree (SETUP_SCRIPT is relative to it). It runs with the
  // agents' allow-listed environment and no secret: no model key, and no ticket, so the worktree's
  // credential helper answers it nothing; git fails rather than waiting on a prompt.
  const setup = await setupCommand(worktree, config.SETUP_SCRIPT, user).catch((error: unknown) => {
    throw new StageError("setup", error);
  });
  // After the clone stage, which stops whatever the user ran before (a previous attempt's forwarder too).
  const network = control.network ? await stage("network", () => control.network!(user), "the workspace's network namespace and egress proxy") : undefined;
  if (setup) {
    await stage(
      "setup",
      async () => {
        for (const command of setup.commands) {
          // In the workspace's namespace, nsenter (root) joins it and setpriv drops to the user.
          const [file, ...args] = network ? network.enter([command.file, ...command.args]) : [command.file, ...command.args];
          await run(file!, args, {
            cwd: worktree,
            env: agentEnvironment(runAs.inherited, { GIT_TERMINAL_PROMPT: "0", ...userEnvironment(user, runAs.home), ...network?.env }),
            ...(network ? {} : { user }),
            timeoutMs: config.SETUP_TIMEOUT,
            group: true,
            label: `setup (${setup.source})`,
            signal: control.signal,
            onOutput: (text, stream) => reporter.output(text, stream),
          });
        }
      },
      setup.detail,
    );
  }
  const baseCommit = await git.headCommit(worktree, as).catch((error: unknown) => {
    throw new StageError("setup", error);
  });
  return { baseCommit, setupScript: setup ? "ran" : "absent", ...(baseBranch ? { baseBranch } : {}), ...(user ? { user } : {}) };
}
