import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vmAgentArtifact } from "./vm-agent";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "acp-artifact-test-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const cacheIn = (name: string) => path.join(scratch, name);

/** A copy of the sources the daemon is built from, beside this repository's node_modules. */
function copyOfSources(): string {
  const root = fs.mkdtempSync(path.join(scratch, "root-"));
  for (const dir of ["vm-agent", "lib"]) fs.cpSync(dir, path.join(root, dir), { recursive: true, filter: (source) => !source.endsWith(".test.ts") });
  fs.copyFileSync("tsconfig.json", path.join(root, "tsconfig.json"));
  fs.symlinkSync(path.resolve("node_modules"), path.join(root, "node_modules"));
  return root;
}

describe("the vm-agent archive", () => {
  it("is the same bytes from the same sources, built once and then read from its cache", async () => {
    const first = await vmAgentArtifact({ rootDir: ".", cacheDir: cacheIn("a") });
    const builtAt = fs.statSync(first.file).mtimeMs;
    const again = await vmAgentArtifact({ rootDir: ".", cacheDir: cacheIn("a") });
    expect(fs.statSync(again.file).mtimeMs).toBe(builtAt);
    const elsewhere = await vmAgentArtifact({ rootDir: ".", cacheDir: cacheIn("b") });
    expect(again).toEqual(first);
    expect(elsewhere.sha256).toBe(first.sha256);
    expect(fs.readFileSync(elsewhere.file).equals(fs.readFileSync(first.file))).toBe(true);
    expect(fs.statSync(first.file).size).toBe(first.bytes);
  });

  it("holds the bundled daemon, its helpers and nothing of the sources, owned by root with fixed modes and times", async () => {
    const built = await vmAgentArtifact({ rootDir: ".", cacheDir: cacheIn("a") });
    const listing = execFileSync("tar", ["-tvzf", built.file], { encoding: "utf8" }).trim().split("\n");
    const names = listing.map((line) => line.split(/\s+/).at(-1));
    expect(names).toEqual(expect.arrayContaining(["vm-agent.mjs", "purge-node-users.mjs", "agents/", "agents/script-agent.mjs", "agents/git-credential.mjs", "artifact.json"]));
    expect(names.filter((name) => !/^(vm-agent|purge-node-users|chunk-[A-Z0-9]+|agents\/[a-z-]+)\.mjs$|^agents\/$|^artifact\.json$/.test(name!))).toEqual([]);
    for (const line of listing) expect(line).toMatch(/^[-d]rw[-x]r-[-x]r-[-x] root\/root .* 1970-01-01 00:00 /);
  });

  it("is built anew when a source changes, and the older build leaves the cache", async () => {
    const root = copyOfSources();
    const cacheDir = cacheIn("c");
    const before = await vmAgentArtifact({ rootDir: root, cacheDir });
    fs.appendFileSync(path.join(root, "lib/contracts/vm-agent.ts"), "\nexport const ADDED_FOR_A_TEST = 1;\n");
    const afterSourceChange = await vmAgentArtifact({ rootDir: root, cacheDir });
    expect(afterSourceChange.sha256).not.toBe(before.sha256);
    expect(fs.existsSync(before.file)).toBe(false);
    // A helper script the daemon runs by path counts as a source too.
    fs.writeFileSync(path.join(root, "vm-agent/agents/another-helper.mjs"), "console.log(1);\n");
    const afterNewHelper = await vmAgentArtifact({ rootDir: root, cacheDir });
    expect(afterNewHelper.sha256).not.toBe(afterSourceChange.sha256);
    expect(execFileSync("tar", ["-tzf", afterNewHelper.file], { encoding: "utf8" })).toContain("agents/another-helper.mjs");
  });
});
