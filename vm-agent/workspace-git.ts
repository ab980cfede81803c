/**
 * How the daemon's own git runs in a workspace's worktree (as its user) and pushes from it (as the
 * daemon, from its own repository): one rule for the session manager and the workspace manager.
 */
import type { InheritedEnvironment } from "./config";
import type { GitCredentials } from "./git-credentials";
import type { GitAs, PushSource } from "./git";
import type { WorkspacePaths } from "./paths";
import type { WorkspaceRecord } from "./state/schemas";
import type { WorkspaceUsers } from "./users";

export type WorkspaceGit = (workspace: Pick<WorkspaceRecord, "id" | "user" | "repository">) => { as: GitAs; remote: PushSource };

/**
 * A workspace without a recorded user on a node that isolates workspaces gets neither user nor
 * `unisolated`: its git calls are refused, never run as root.
 */
export function workspaceGit(deps: { paths: WorkspacePaths; users: Pick<WorkspaceUsers, "enabled">; credentials: Pick<GitCredentials, "daemonGit">; inherited: InheritedEnvironment }): WorkspaceGit {
  const { paths, users, credentials, inherited } = deps;
  return ({ id, user, repository }) => {
    const as: GitAs = user ? { user, home: paths.home(id), inherited } : users.enabled ? { inherited } : { unisolated: true, inherited };
    return { as, remote: { shadow: paths.pushRepo(id), worktree: paths.worktree(id), as, repository, auth: credentials.daemonGit(id) } };
  };
}
