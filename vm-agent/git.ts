/** The git operations a workspace needs, each one program call with an argument array. */
import fs from "node:fs";
import path from "node:path";
import { run } from "./exec";

/** What git may see of the daemon's environment: no tokens or keys, as a planted hook could read them. */
const PASS_THROUGH = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];

/**
 * How the daemon's git runs. `auth`: `-c` arguments naming the credential helper
 * (git-credentials.ts; none: no credentials), for the clone; `user`: the workspace's own user,
 * with `home` as HOME, for every call in a worktree its agent can write (never with `auth`).
 */
export type GitAs = { auth?: string[]; user?: { uid: number; gid: number }; home?: string };

/** Git must never stop to ask for credentials on a node nobody is watching. */
const env = (as: GitAs) => {
  const allowed: Record<string, string> = {};
  for (const key of PASS_THROUGH) if (process.env[key] !== undefined) allowed[key] = process.env[key]!;
  // As the workspace's user the daemon's HOME is out of reach (and its config is not the agent's to use).
  if (as.home) allowed.HOME = as.home;
  if (as.user) delete allowed.SSH_AUTH_SOCK;
  return { ...allowed, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false" };
};
/**
 * The agent can write the worktree's `.git/config` and hooks: the daemon's own git calls ignore
 * hooks, the fsmonitor and every credential helper configured so far (an empty value clears the
 * list), the ways such a file would make git run a program; what else it could make git run
 * (a filter, a signing program) runs as the workspace's user, as every call in a worktree does.
 */
const HARDENED = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "credential.helper="];

const git = (cwd: string, args: string[], as: GitAs = {}, timeoutMs = 10 * 60_000) =>
  run("git", [...HARDENED, ...(as.auth ?? []), ...args], { cwd, env: env(as), timeoutMs, label: `git ${args[0]}`, user: as.user });

/** A read-only git call in a worktree (as its user), keeping the first `stdoutHead` bytes of a long answer. */
export const readGit = (dir: string, args: string[], as: GitAs, stdoutHead?: number) =>
  run("git", [...HARDENED, ...args], { cwd: dir, env: env(as), timeoutMs: 5 * 60_000, label: `git ${args[0]}`, user: as.user, ...(stdoutHead ? { stdoutHead } : {}) });

/** Clones as the daemon (the workspace's user may not reach a local source); the caller hands the clone over. */
export async function clone(repository: string, dest: string, parentDir: string, as: GitAs = {}) {
  await git(parentDir, ["clone", "--quiet", "--", repository, dest], as);
}

/**
 * The helper the agent's git uses in this worktree (the daemon's own calls clear it): first an empty
 * value, so no helper of the node's global config answers in its place.
 */
export async function setCredentialHelper(dir: string, helper: string) {
  await git(dir, ["config", "--replace-all", "credential.helper", ""]);
  await git(dir, ["config", "--add", "credential.helper", helper]);
}

/**
 * Creates the task's branch from `base`, which must be one of the repository's branches (the
 * clone's remote-tracking ones), or from the clone's default branch; when the repository has the
 * task's branch already (an earlier attempt pushed it), the work goes on from there. Returns the
 * base's name (undefined for a repository whose HEAD is detached).
 */
export async function createBranch(dir: string, branch: string, base?: string): Promise<string | undefined> {
  const listed = (await git(dir, ["for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"])).stdout.split("\n");
  const branches = listed.filter((name) => name && name !== "HEAD");
  if (base) {
    if (!branches.includes(base)) {
      const shown = branches.slice(0, 20).join(", ") + (branches.length > 20 ? `, … (${branches.length} in all)` : "");
      throw new Error(`the repository has no branch ${base}; its branches: ${shown || "none"}`);
    }
  }
  const current = base ?? (await git(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => undefined))?.stdout.trim();
  const from = branches.includes(branch) ? `refs/remotes/origin/${branch}` : base ? `refs/remotes/origin/${base}` : "HEAD";
  // `--` ends the revisions, so nothing after it is read as one.
  await git(dir, ["checkout", "--quiet", "-b", branch, from, "--"]);
  return current || undefined;
}

export async function setIdentity(dir: string, name: string, email: string) {
  await git(dir, ["config", "user.name", name]);
  await git(dir, ["config", "user.email", email]);
}

export async function headCommit(dir: string, as: GitAs = {}): Promise<string> {
  return (await git(dir, ["rev-parse", "HEAD"], as)).stdout.trim();
}

/** Stages everything and commits it; false when there was nothing to commit. */
export async function commitAll(dir: string, message: string, as: GitAs = {}): Promise<boolean> {
  await git(dir, ["add", "--all"], as);
  const status = await git(dir, ["status", "--porcelain"], as);
  if (status.stdout.trim() === "") return false;
  await git(dir, ["commit", "--quiet", "--no-verify", "-m", message], as);
  return true;
}

export async function status(dir: string, as: GitAs = {}): Promise<string> {
  return (await git(dir, ["status", "--porcelain"], as)).stdout;
}

/**
 * Where the daemon's pushes come from: its own bare repository beside the worktree, borrowing the
 * worktree's objects (git alternates), pushing to the repository the workspace was created from.
 * The worktree's config is the agent's to write (a remote URL, an insteadOf, a receive-pack
 * program, an include of a file it cannot read itself), so no call that carries credentials or
 * runs as the daemon reads it.
 */
export type PushSource = { shadow: string; objects: string; repository: string; auth?: string[] };

const shadowGit = (source: PushSource, args: string[], timeoutMs: number) =>
  run("git", [...HARDENED, ...(source.auth ?? []), `--git-dir=${source.shadow}`, ...args], { cwd: path.dirname(source.shadow), env: env({}), timeoutMs, label: `git ${args[0]}` });

async function ensureShadow(source: PushSource) {
  // Nested alternates would let the worktree's object store name any other on the node.
  if (fs.existsSync(path.join(source.objects, "info", "alternates"))) throw new Error("the worktree's object store names other object stores (objects/info/alternates); not pushing from it");
  if (!fs.existsSync(path.join(source.shadow, "HEAD"))) await run("git", ["init", "--bare", "--quiet", source.shadow], { env: env({}), label: "git init" });
  fs.writeFileSync(path.join(source.shadow, "objects", "info", "alternates"), `${source.objects}\n`);
}

/** Pushes `commit` (made in the worktree) as the branch of the workspace's repository. */
export async function pushCommit(source: PushSource, branch: string, commit: string) {
  await ensureShadow(source);
  await shadowGit(source, ["update-ref", `refs/heads/${branch}`, commit], 60_000);
  await shadowGit(source, ["push", "--quiet", source.repository, `refs/heads/${branch}:refs/heads/${branch}`], 5 * 60_000);
}

/** True when a push was refused because the remote branch has commits the pushed one lacks. */
export const isBehindRemote = (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  return /\[rejected\]/.test(message) && /fetch first|non-fast-forward/.test(message);
};

export type Rebased = { head: string; onto: string } | { conflict: string[]; onto: string };

/**
 * After a push was refused because the remote branch moved (someone else pushed to it), rebases the
 * worktree's commits onto it, so the next push is a fast-forward; nothing is ever force-pushed. The
 * daemon fetches the remote branch into its push repository (with the credentials), hands its new
 * commits to the worktree as a bundle the workspace's user can read, and the rebase runs as that
 * user in the worktree. A conflict aborts the rebase, leaves the worktree as it was and names the
 * files.
 */
export async function rebaseOntoRemote(worktree: string, source: PushSource, branch: string, as: GitAs): Promise<Rebased> {
  await ensureShadow(source);
  await shadowGit(source, ["fetch", "--quiet", "--no-tags", source.repository, `+refs/heads/${branch}:refs/acp/remote`], 5 * 60_000);
  const onto = (await shadowGit(source, ["rev-parse", "refs/acp/remote"], 60_000)).stdout.trim();
  const local = await headCommit(worktree, as);
  const behind = await shadowGit(source, ["merge-base", "--is-ancestor", onto, local], 60_000).then(() => false, () => true);
  if (!behind) return { head: local, onto };
  const bundle = path.join(path.dirname(source.shadow), "remote.bundle");
  fs.rmSync(bundle, { force: true });
  // The remote's commits the worktree lacks (its own history is the bundle's prerequisite).
  await shadowGit(source, ["bundle", "create", "--quiet", bundle, "refs/acp/remote", `^${local}`], 5 * 60_000);
  if (as.user) {
    fs.chownSync(bundle, process.getuid?.() ?? 0, as.user.gid);
    fs.chmodSync(bundle, 0o640);
  }
  try {
    await git(worktree, ["fetch", "--quiet", "--no-tags", bundle, "refs/acp/remote"], as);
  } finally {
    fs.rmSync(bundle, { force: true });
  }
  const rebase = await run("git", [...HARDENED, "-c", "rebase.autoStash=false", "-c", "rebase.autoSquash=false", "rebase", "--quiet", onto], { cwd: worktree, env: env(as), timeoutMs: 5 * 60_000, check: false, label: "git rebase", user: as.user });
  if (rebase.code === 0) return { head: await headCommit(worktree, as), onto };
  const conflicted = (await git(worktree, ["diff", "--name-only", "--diff-filter=U"], as).catch(() => ({ stdout: "" }))).stdout.split("\n").filter(Boolean);
  await git(worktree, ["rebase", "--abort"], as);
  return { conflict: conflicted.length ? conflicted : ["(git named no file)"], onto };
}

/** The commit a branch points at in the workspace's repository, or undefined when it has no such branch. */
export async function remoteBranchCommit(source: PushSource, branch: string): Promise<string | undefined> {
  await ensureShadow(source);
  const out = (await shadowGit(source, ["ls-remote", source.repository, `refs/heads/${branch}`], 60_000)).stdout.trim();
  return out ? out.split(/\s+/)[0] : undefined;
}

/** True when `path` is a git repository (a work tree or a bare one). */
export async function isRepository(path: string): Promise<boolean> {
  const result = await run("git", [...HARDENED, "-C", path, "rev-parse", "--git-dir"], { env: env({}), check: false }).catch(() => undefined);
  return result?.code === 0;
}

/** True when the branch has work that is not pushed; a check that fails counts as dirty. */
export async function hasUnpushedWork(worktree: string, baseCommit: string | undefined, branch: string, as: GitAs, remote: PushSource): Promise<boolean> {
  try {
    if ((await status(worktree, as)).trim() !== "") return true;
    const head = await headCommit(worktree, as);
    if (head === baseCommit) return false;
    return (await remoteBranchCommit(remote, branch)) !== head;
  } catch {
    return true;
  }
}
