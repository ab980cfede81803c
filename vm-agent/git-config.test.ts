/**
 * The daemon's git reads the repository's own config and its fixed -c options only: neither the
 * machine's /etc/gitconfig nor a user's ~/.gitconfig (the operator's url rewrites and helpers, or
 * one an agent wrote in its home) changes what it clones or where it pushes.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inheritedEnvironment } from "./config";
import * as git from "./git";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "acp-git-config-"));
const savedHome = process.env.HOME;
afterAll(() => {
  process.env.HOME = savedHome;
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the daemon's git", () => {
  it("ignores the global config of whoever's HOME it runs with: a url rewrite there does not redirect its clone", async () => {
    const source = path.join(scratch, "source");
    const decoy = path.join(scratch, "decoy");
    for (const [dir, file] of [[source, "REAL"], [decoy, "DECOY"]] as const) {
      fs.mkdirSync(dir);
      execFileSync("git", ["init", "-q", "-b", "main", dir]);
      fs.writeFileSync(path.join(dir, file), "x");
      execFileSync("git", ["-C", dir, "add", "."]);
      execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", file]);
    }
    const home = path.join(scratch, "home");
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, ".gitconfig"), `[url "${decoy}"]\n\tinsteadOf = ${source}\n`);
    process.env.HOME = home;
    const dest = path.join(scratch, "clone");
    await git.clone(source, dest, scratch, inheritedEnvironment(process.env));
    const files = execFileSync("git", ["-C", dest, "ls-tree", "--name-only", "-r", "HEAD"], { encoding: "utf8" }).trim();
    expect(files).toBe("REAL");
  });
});
