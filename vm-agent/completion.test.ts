/**
 * The commit at the end of a turn, with real git: its message (the prompt's first line and the
 * trailers) reaches git through a file, never its argument list, which every user of the node can
 * read in /proc/<pid>/cmdline. A `git` first on PATH records each call's arguments and runs the real one.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { commitAndPush } from "./completion";
import { inheritedEnvironment } from "./config";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A folder with a `git` that appends its arguments (one call a line) to `calls`, then runs the real git. */
function recordingGit() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-git-shim-"));
  const calls = path.join(dir, "calls");
  const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  fs.writeFileSync(path.join(dir, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const path0 = process.env.PATH;
  process.env.PATH = `${dir}:${path0}`;
  cleanups.push(() => {
    process.env.PATH = path0;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { calls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "") };
}

describe("commitAndPush", () => {
  it("hands git the commit message in a file, never in an argument, and leaves no file behind", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "acp-commit-"));
    cleanups.push(() => fs.rmSync(workspace, { recursive: true, force: true }));
    const worktree = path.join(workspace, "repo");
    execFileSync("git", ["clone", "--quiet", makeRepo(), worktree]);
    git(worktree, "config", "user.name", "Coding Agent");
    git(worktree, "config", "user.email", "agent@localhost");
    fs.writeFileSync(path.join(worktree, "NOTES.md"), "notes\n");
    const recorded = recordingGit();

    const subject = "--help me rotate the payroll export keys";
    const attribution = { taskUrl: "https://agents.example.test/tasks/t_1", requestedBy: { name: "Ada Lovelace", email: "ada@example.test" } };
    // The daemon's git as the daemon itself (a node without workspace users): as root it would refuse a worktree otherwise.
    const committed = await commitAndPush(worktree, { subject, sessionId: "s_1", attribution, push: false, as: { unisolated: true, inherited: inheritedEnvironment(process.env) } });

    expect(committed).toMatchObject({ pushed: false });
    expect(committed.error).toBeUndefined();
    expect(git(worktree, "log", "-1", "--format=%B")).toBe(`${subject}\n\nAgent-Session: s_1\nAgent-Task: ${attribution.taskUrl}\nCo-authored-by: Ada Lovelace <ada@example.test>`);
    const calls = recorded.calls();
    expect(calls).toMatch(/ commit /); // the recording saw the commit
    expect(calls).not.toContain("payroll");
    expect(calls).not.toContain("Ada Lovelace");
    expect(fs.readdirSync(workspace)).toEqual(["repo"]);
  });
});
