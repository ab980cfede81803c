import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { testTempDir } from "./temp-dirs";

/** The test's own git, as root, also in worktrees owned by a workspace's user (safe.directory). */
export const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "safe.directory=*", ...args], { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "t@example.test" } }).trim();

/** A git repository with one commit; `files` are written before it. */
export function makeRepo(files: Record<string, string> = {}, options: { executable?: string[] } = {}): string {
  const dir = testTempDir("acp-repo-");
  git(dir, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "README.md"), "# test repository\n");
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  for (const name of options.executable ?? []) fs.chmodSync(path.join(dir, name), 0o755);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  return dir;
}

/** Commits `files` on a new branch of `repo` (from main), goes back to main, and returns the commit. */
export function commitOnBranch(repo: string, branch: string, files: Record<string, string>): string {
  git(repo, "checkout", "-q", "-b", branch, "main");
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(repo, name), content);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", `on ${branch}`);
  const commit = git(repo, "rev-parse", "HEAD");
  git(repo, "checkout", "-q", "main");
  return commit;
}
