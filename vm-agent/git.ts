/** The git operations a workspace needs, each one program call with an argument array. */
import fs from "node:fs";
import path from "node:path";
import type { InheritedEnvironment } from "./config";
import { run, type RunOptions } from "./exec";

/** What git may see of the daemon's environment: no tokens or keys, as a planted hook could read them. */
const PASS_THROUGH = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"] as const;

/**
 * How the daemon's git runs in a worktree. `user`: the workspace's own user, with `home` as HOME,
 * for every call in a worktree its agent can write; `unisolated`: the node runs workspaces as the
 * daemon itself (WORKSPACE_USERS=off, or a daemon that is not root), so git does too. A root
 * daemon's git never runs in a worktree otherwise: a call with neither is refused. `inherited`: the
 * daemon's environment (config.ts), which git's starts from.
 */
export type GitAs = { inherited: InheritedEnvironment; user?: { uid: number; gid: number }; home?: string; unisolated?: true };

/** Why git must not run in a worktree as asked (as root, for a workspace with no user), or undefined. */
const refusal = (as: GitAs) =>
  !as.user && !as.unisolated && process.getuid?.() === 0 ? "refusing to run git as root in a workspace's worktree (the workspace has no user of its own)" : undefined;

/** Git must never stop to ask for credentials on a node nobody is watching. */
const env = (as: GitAs) => {
  const allowed: Record<string, string> = {};
  for (const key of PASS_THROUGH) if (as.inherited[key] !== undefined) allowed[key] = as.inherited[key];
  // As the workspace's user the daemon's HOME is out of reach (and its config is not the agent's to use).
  if (as.home) allowed.HOME = as.home;
  if (as.user) delete allowed.SSH_AUTH_SOCK;
  // Only the repository's own config and the -c options below: not the machine's (/etc/gitconfig)
  // nor a user's (the operator's ~/.gitconfig with its url rewrites and helpers, or one the agent wrote).
  return { ...allowed, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
};
/**
 * The agent can write the worktree's `.git/config` and hooks: the daemon's own git calls ignore
 * hooks, the fsmonitor and every credential helper configured so far (an empty value clears the
 * list), the ways such a file would make git run a program; what else it could make git run
 * (a filter, a signing program) runs as the workspace's user, as every call in a worktree does.
 */
const HARDENED = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "credential.helper="];

/** Git in a worktree, as its workspace's user (see GitAs). */
const git = (cwd: string, args: string[], as: GitAs, timeoutMs = 10 * 60_000, options: Partial<RunOptions> = {}) => {
  const refused = refusal(as);
  if (refused) return Promise.reject(new Error(refused));
  return run("git", [...HARDENED, ...args], { cwd, env: env(as), timeoutMs, label: `git ${args[0]}`, user: as.user, ...options });
};

/** A read-only git call in a worktree (as its user), keeping the first `stdoutHead` bytes of a long answer. */
export const readGit = (dir: string, args: string[], as: GitAs, stdoutHead?: number) => git(dir, args, as, 5 * 60_000, stdoutHead ? { stdoutHead } : {});

/**
 * Clones as the daemon, with its credentials (`auth`: `-c` arguments naming the credential helper,
 * git-credentials.ts): the workspace's user may not reach a local source. Through git's transport
 * even for a local path (`--no-local`), so the clone shares no file with its source (a hardlinked
 * object handed to the workspace's user would be the source's), and without a checkout: the
 * repository's files are written by the workspace's user (createBranch), never by root. The caller
 * hands the fresh `.git` over.
 */
export async function clone(repository: string, dest: string, parentDir: string, inherited: InheritedEnvironment, auth: string[] = []) {
  await run("git", [...HARDENED, ...auth, "clone", "--quiet", "--no-checkout", "--no-local", "--", repository, dest], { cwd: parentDir, env: env({ inherited }), timeoutMs: 10 * 60_000, label: "git clone" });
}

/**
 * The helper the agent's git uses in this worktree (the daemon's own calls clear it): first an empty
 * value, so no helper of the node's global config answers in its place.
 */
export async function setCredentialHelper(dir: string, helper: string, as: GitAs) {
  await git(dir, ["config", "--replace-all", "credential.helper", ""], as);
  await git(dir, ["config", "--add", "credential.helper", helper], as);
}

/**
 * Creates the task's branch from `base`, which must be one of the repository's branches (the
 * clone's remote-tracking ones), or from the clone's default branch; when the repository has the
 * task's branch already (an earlier attempt pushed it), the work goes on from there. Returns the
 * base's name (undefined for a repository whose HEAD is detached).
 */
export async function createBranch(dir: string, branch: string, base: string | undefined, as: GitAs): Promise<string | undefined> {
  const listed = (await git(dir, ["for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"], as)).stdout.split("\n");
  const branches = listed.filter((name) => name && name !== "HEAD");
  if (base) {
    if (!branches.includes(base)) {
      const shown = branches.slice(0, 20).join(", ") + (branches.length > 20 ? `, … (${branches.length} in all)` : "");
      throw new Error(`the repository has no branch ${base}; its branches: ${shown || "none"}`);
    }
  }
  const current = base ?? (await git(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"], as).catch(() => undefined))?.stdout.trim();
  const from = branches.includes(branch) ? `refs/remotes/origin/${branch}` : base ? `refs/remotes/origin/${base}` : "HEAD";
  // `--` ends the revisions, so nothing after it is read as one.
  await git(dir, ["checkout", "--quiet", "-b", branch, from, "--"], as);
  return current || undefined;
}

export async function setIdentity(dir: string, name: string, email: string, as: GitAs) {
  await git(dir, ["config", "user.name", name], as);
  await git(dir, ["config", "user.email", email], as);
}

export async function headCommit(dir: string, as: GitAs): Promise<string> {
  return (await git(dir, ["rev-parse", "HEAD"], as)).stdout.trim();
}

/**
 * Stages everything and commits it; false when there was nothing to commit. The message goes to git
 * in a file (`-F`), never in its argument list (`/proc/<pid>/cmdline` is readable by every user):
 * made beside the worktree, in the workspace's root-owned folder, where its agent cannot plant a
 * link (`wx` refuses an existing name too), readable by the workspace's group, removed afterwards.
 */
export async function commitAll(dir: string, message: string, as: GitAs): Promise<boolean> {
  await git(dir, ["add", "--all"], as);
  const status = await git(dir, ["status", "--porcelain"], as);
  if (status.stdout.trim() === "") return false;
  const file = path.join(path.dirname(dir), `commit-message-${process.pid}-${Date.now()}`);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, message, { mode: 0o600, flag: "wx" });
  try {
    if (as.user) {
      fs.chownSync(file, process.getuid?.() ?? 0, as.user.gid);
      fs.chmodSync(file, 0o640);
    }
    await git(dir, ["commit", "--quiet", "--no-verify", "-F", file], as);
  } finally {
    fs.rmSync(file, { force: true });
  }
  return true;
}

export async function status(dir: string, as: GitAs): Promise<string> {
  return (await git(dir, ["status", "--porcelain"], as)).stdout;
}

/**
 * Where the daemon's pushes come from: its own bare repository beside the worktree (root's, in the
 * workspace's root-owned folder), pushing to the repository the workspace was created from. The
 * worktree's config and object store are the agent's to write (a remote URL, an insteadOf, a
 * receive-pack program, a link from `objects/` to another repository's objects), so nothing that
 * runs as root reads them: the commits to push are exported as a bundle by the workspace's user
 * (`as`), written to a file of root's through a descriptor it opened, and fetched from that file.
 */
export type PushSource = { shadow: string; worktree: string; as: GitAs; repository: string; auth?: string[] };

/** Git in the daemon's own repository, as the daemon (with the environment the worktree's git starts from). */
const shadowGit = (source: Pick<PushSource, "shadow" | "auth" | "as">, args: string[], timeoutMs: number) =>
  run("git", [...HARDENED, ...(source.auth ?? []), `--git-dir=${source.shadow}`, ...args], { cwd: path.dirname(source.shadow), env: env({ inherited: source.as.inherited }), timeoutMs, label: `git ${args[0]}` });

async function ensureShadow(source: Pick<PushSource, "shadow" | "as">) {
  // An older daemon's shadow borrowed the worktree's objects (alternates): start again without.
  if (fs.existsSync(path.join(source.shadow, "objects", "info", "alternates"))) fs.rmSync(source.shadow, { recursive: true, force: true });
  if (!fs.existsSync(path.join(source.shadow, "HEAD"))) await run("git", ["init", "--bare", "--quiet", source.shadow], { env: env({ inherited: source.as.inherited }), label: "git init" });
}

/**
 * Made at provisioning from the fresh clone (root's own, before the workspace's user gets it): the
 * shadow starts with the repository's branches, so later exports carry only the agent's commits.
 */
export async function seedShadow(source: Pick<PushSource, "shadow" | "as">, freshClone: string) {
  await ensureShadow(source);
  await shadowGit(source, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", freshClone, "+refs/remotes/origin/*:refs/acp/base/*"], 10 * 60_000);
}

const hasCommit = (source: PushSource, commit: string) =>
  shadowGit(source, ["cat-file", "-e", `${commit}^{commit}`], 60_000).then(
    () => true,
    () => false,
  );

/**
 * Copies `commit` and its history into the shadow: the workspace's user writes a bundle of it
 * (without what the shadow has, when its repository still has those commits) to a file root
 * opened in root's folder, and root fetches from that file.
 */
async function importCommit(source: PushSource, commit: string) {
  await ensureShadow(source);
  if (await hasCommit(source, commit)) return;
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
  const bundle = path.join(path.dirname(source.shadow), "import.bundle");
  const tips = (await shadowGit(source, ["for-each-ref", "--format=%(objectname)"], 60_000)).stdout.split("\n").filter(Boolean);
  await git(source.worktree, ["update-ref", "refs/acp/export", commit], source.as);
  const exportAs = async (exclude: string[]) => {
    fs.rmSync(bundle, { force: true });
    const fd = fs.openSync(bundle, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      return await git(source.worktree, ["bundle", "create", "--quiet", "-", "refs/acp/export", ...exclude.map((tip) => `^${tip}`)], source.as, 10 * 60_000, { stdoutFd: fd, check: false });
    } finally {
      fs.closeSync(fd);
    }
  };
  try {
    // A commit of the shadow's the worktree no longer has makes that bundle fail: then all of it.
    if (!tips.length || (await exportAs(tips)).code !== 0) {
      const whole = await exportAs([]);
      if (whole.code !== 0) throw new Error(`could not export the commits to push: ${whole.stderr.trim() || `exit ${whole.code}`}`);
    }
    await shadowGit(source, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", bundle, "+refs/acp/export:refs/acp/imported"], 10 * 60_000);
  } finally {
    fs.rmSync(bundle, { force: true });
  }
  if (!(await hasCommit(source, commit))) throw new Error(`the exported commits do not hold ${commit}`);
}

/** Pushes `commit` (made in the worktree) as the branch of the workspace's repository. */
export async function pushCommit(source: PushSource, branch: string, commit: string) {
  await importCommit(source, commit);
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
  await importCommit(source, local);
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
  const rebase = await git(worktree, ["-c", "rebase.autoStash=false", "-c", "rebase.autoSquash=false", "rebase", "--quiet", onto], as, 5 * 60_000, { check: false });
  if (rebase.code === 0) return { head: await headCommit(worktree, as), onto };
  const conflicted = (await git(worktree, ["diff", "--name-only", "--diff-filter=U"], as).catch(() => ({ stdout: "" }))).stdout.split("\n").filter(Boolean);
  await git(worktree, ["rebase", "--abort"], as);
  return { conflict: conflicted.length ? conflicted : ["(git named no file)"], onto };
}

/** The commit a branch points at in the workspace's repository, or undefined when it has no such branch. */
export async function remoteBranchCommit(source: Pick<PushSource, "shadow" | "auth" | "repository" | "as">, branch: string): Promise<string | undefined> {
  await ensureShadow(source);
  const out = (await shadowGit(source, ["ls-remote", source.repository, `refs/heads/${branch}`], 60_000)).stdout.trim();
  return out ? out.split(/\s+/)[0] : undefined;
}

/** True when `path` is a git repository (a work tree or a bare one). */
export async function isRepository(path: string, inherited: InheritedEnvironment): Promise<boolean> {
  const result = await run("git", [...HARDENED, "-C", path, "rev-parse", "--git-dir"], { env: env({ inherited }), check: false }).catch(() => undefined);
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
