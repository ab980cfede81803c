/** A turn's diff against its base branch, read with real git from a clone like a workspace's. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { inheritedEnvironment } from "./config";
import { capPatch, parseNumstat, turnDiff } from "./diff";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A clone of a repository (origin/main), on a task branch. */
function workspaceClone(files: Record<string, string>) {
  const origin = makeRepo(files);
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), "acp-diff-"));
  dirs.push(origin, clone);
  git(clone, "clone", "-q", origin, ".");
  git(clone, "checkout", "-q", "-b", "agents/diff");
  return { origin, clone };
}

const commit = (dir: string, message: string) => {
  git(dir, "add", "-A");
  git(dir, "-c", "user.name=Agent", "-c", "user.email=agent@example.test", "commit", "-q", "-m", message);
};

describe("a turn's diff", () => {
  it("lists every changed file with its counts (renames, deletions, binary files) and the patch against the merge base", async () => {
    const { origin, clone } = workspaceClone({ "src/app.ts": "export const a = 1;\nexport const b = 2;\n", "old-name.md": "same\ncontent\nhere\n", "gone.txt": "bye\n" });
    fs.writeFileSync(path.join(clone, "src/app.ts"), "export const a = 1;\nexport const b = 3;\nexport const c = 4;\n");
    fs.renameSync(path.join(clone, "old-name.md"), path.join(clone, "new-name.md"));
    fs.rmSync(path.join(clone, "gone.txt"));
    fs.writeFileSync(path.join(clone, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 255]));
    commit(clone, "agent turn");
    // The base branch moves on after the clone: that commit is not the agent's change.
    fs.writeFileSync(path.join(origin, "UPSTREAM.md"), "upstream\n");
    commit(origin, "upstream");
    git(clone, "fetch", "-q", "origin");

    const diff = await turnDiff(clone, { baseBranch: "main", as: { unisolated: true, inherited: inheritedEnvironment(process.env) }, maxBytes: 1024 * 1024 });
    expect(diff.head).toBe(git(clone, "rev-parse", "HEAD"));
    expect(diff.base).toBe(git(clone, "rev-parse", "HEAD~1"));
    expect(diff.files).toEqual(
      expect.arrayContaining([
        { path: "src/app.ts", added: 2, removed: 1 },
        { path: "new-name.md", oldPath: "old-name.md", added: 0, removed: 0 },
        { path: "gone.txt", added: 0, removed: 1 },
        { path: "logo.png", added: null, removed: null },
      ]),
    );
    expect(diff.files).toHaveLength(4);
    expect(diff.files.map((f) => f.path)).not.toContain("UPSTREAM.md");
    expect(diff.patch).toContain("diff --git a/src/app.ts b/src/app.ts");
    expect(diff.patch).toContain("+export const c = 4;");
    expect(diff.patch).toContain("rename from old-name.md");
    expect(diff.truncated).toBe(false);
  });

  it("runs no diff program or filter the worktree's config names", async () => {
    const { clone } = workspaceClone({ "a.txt": "one\n" });
    const mark = path.join(clone, "..", `mark-${path.basename(clone)}`);
    dirs.push(mark);
    git(clone, "config", "diff.external", `sh -c 'touch ${mark}'`);
    fs.writeFileSync(path.join(clone, ".gitattributes"), "*.txt diff=planted\n");
    git(clone, "config", "diff.planted.textconv", `sh -c 'touch ${mark}; cat'`);
    fs.writeFileSync(path.join(clone, "a.txt"), "two\n");
    commit(clone, "change");
    const diff = await turnDiff(clone, { baseBranch: "main", as: { unisolated: true, inherited: inheritedEnvironment(process.env) }, maxBytes: 1024 * 1024 });
    expect(diff.patch).toContain("+two");
    expect(fs.existsSync(mark)).toBe(false);
  });

  it("cuts a large patch at a file boundary and keeps every file's counts", async () => {
    const { clone } = workspaceClone({});
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(clone, `file-${String(i).padStart(2, "0")}.txt`), `${"line\n".repeat(200)}`);
    commit(clone, "many files");
    const diff = await turnDiff(clone, { baseBranch: "main", as: { unisolated: true, inherited: inheritedEnvironment(process.env) }, maxBytes: 8_000 });
    expect(diff.files).toHaveLength(20);
    expect(diff.truncated).toBe(true);
    expect(Buffer.byteLength(diff.patch)).toBeLessThanOrEqual(8_000);
    expect(diff.patch.startsWith("diff --git ")).toBe(true);
    // Whole files only: each file in the patch has all its 200 lines.
    const shown = diff.patch.split(/^diff --git /m).filter(Boolean);
    expect(shown.length).toBeGreaterThan(0);
    for (const file of shown) expect(file.match(/^\+line$/gm)).toHaveLength(200);
  });
});

describe("reading numstat and capping", () => {
  it("reads renames and binary counts from -z output", () => {
    expect(parseNumstat("1\t2\ta.ts\0-\t-\timg.png\0" + "0\t0\t\0old.md\0new.md\0")).toEqual([
      { path: "a.ts", added: 1, removed: 2 },
      { path: "img.png", added: null, removed: null },
      { path: "new.md", oldPath: "old.md", added: 0, removed: 0 },
    ]);
  });

  it("leaves a patch within the cap alone", () => {
    expect(capPatch("diff --git a/x b/x\n+1\n", 100)).toEqual({ patch: "diff --git a/x b/x\n+1\n", truncated: false });
  });
});
