/** The git operations a workspace needs, each one program call with an argument array. */
import { run } from "./exec";

/** What git may see of the daemon's environment: no tokens or keys, as a planted hook could read them. */
const PASS_THROUGH = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];

/** Git must never stop to ask for credentials on a node nobody is watching. */
const env = () => {
  const allowed: Record<string, string> = {};
  for (const key of PASS_THROUGH) if (process.env[key] !== undefined) allowed[key] = process.env[key]!;
  return { ...allowed, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false" };
};
/**
 * The agent can write the worktree's `.git/config` and hooks: the daemon's own git calls ignore
 * hooks, the fsmonitor and every credential helper configured so far (an empty value clears the
 * list), the ways such a file would make git run a program. Credentials come only from `auth`.
 */
const HARDENED = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "credential.helper="];

/** `-c` arguments naming the workspace's credential helper (git-credentials.ts); none: no credentials. */
export type GitAuth = string[];

const git = (cwd: string, args: string[], timeoutMs = 10 * 60_000, auth: GitAuth = []) =>
  run("git", [...HARDENED, ...auth, ...args], { cwd, env: env(), timeoutMs, label: `git ${args[0]}` });

export async function clone(repository: string, dest: string, parentDir: string, auth: GitAuth = []) {
  await git(parentDir, ["clone", "--quiet", "--", repository, dest], undefined, auth);
}

/**
 * The helper the agent's git uses in this worktree (the daemon's own calls clear it): first an empty
 * value, so no helper of the node's global config answers in its place.
 */
export async function setCredentialHelper(dir: string, helper: string) {
  await git(dir, ["config", "--replace-all", "credential.helper", ""]);
  await git(dir, ["config", "--add", "credential.helper", helper]);
}

export async function createBranch(dir: string, branch: string) {
  // From the clone's default HEAD; `--` ends the revisions, so nothing after it is read as one.
  await git(dir, ["checkout", "--quiet", "-b", branch, "HEAD", "--"]);
}

export async function setIdentity(dir: string, name: string, email: string) {
  await git(dir, ["config", "user.name", name]);
  await git(dir, ["config", "user.email", email]);
}

export async function headCommit(dir: string): Promise<string> {
  return (await git(dir, ["rev-parse", "HEAD"])).stdout.trim();
}

/** Stages everything and commits it; false when there was nothing to commit. */
export async function commitAll(dir: string, message: string): Promise<boolean> {
  await git(dir, ["add", "--all"]);
  const status = await git(dir, ["status", "--porcelain"]);
  if (status.stdout.trim() === "") return false;
  await git(dir, ["commit", "--quiet", "--no-verify", "-m", message]);
  return true;
}

export async function status(dir: string): Promise<string> {
  return (await git(dir, ["status", "--porcelain"])).stdout;
}

/** The commit a branch points at on origin, or undefined when origin has no such branch. */
export async function remoteBranchCommit(dir: string, branch: string, auth: GitAuth = []): Promise<string | undefined> {
  const out = (await git(dir, ["ls-remote", "origin", `refs/heads/${branch}`], 60_000, auth)).stdout.trim();
  return out ? out.split(/\s+/)[0] : undefined;
}

export async function hasRemote(dir: string, name: string): Promise<boolean> {
  const result = await run("git", [...HARDENED, "remote", "get-url", name], { cwd: dir, env: env(), check: false });
  return result.code === 0;
}

export async function push(dir: string, branch: string, auth: GitAuth = []) {
  await git(dir, ["push", "--quiet", "origin", `refs/heads/${branch}:refs/heads/${branch}`], 5 * 60_000, auth);
}

/** True when `path` is a git repository (a work tree or a bare one). */
export async function isRepository(path: string): Promise<boolean> {
  const result = await run("git", [...HARDENED, "-C", path, "rev-parse", "--git-dir"], { env: env(), check: false }).catch(() => undefined);
  return result?.code === 0;
}

/** True when the branch has work that is not pushed; a check that fails counts as dirty. */
export async function hasUnpushedWork(worktree: string, baseCommit: string | undefined, branch: string, auth: GitAuth = []): Promise<boolean> {
  try {
    if ((await status(worktree)).trim() !== "") return true;
    const head = await headCommit(worktree);
    if (head === baseCommit) return false;
    if (!(await hasRemote(worktree, "origin"))) return true;
    return (await remoteBranchCommit(worktree, branch, auth)) !== head;
  } catch {
    return true;
  }
}
