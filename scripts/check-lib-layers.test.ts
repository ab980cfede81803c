/** The lib/ layer check on small trees made for each case, so it cannot pass by finding nothing. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describePair, mutualPairs } from "./check-lib-layers";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

/** A project root whose lib/ holds `files` (path under lib/ → text). */
function tree(files: Record<string, string>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-lib-layers-"));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, "lib", file)), { recursive: true });
    fs.writeFileSync(path.join(root, "lib", file), text);
  }
  return root;
}

describe("the lib/ layer check", () => {
  it("names each pair of units that import each other, with one import of each direction", () => {
    const root = tree({
      "tasks/create.ts": `import { x } from "../runs/start";\nexport const y = x;\n`,
      "runs/start.ts": `export const x = 1;\n`,
      "runs/redrive.ts": `// the failure path\nimport type { T } from "@/lib/tasks/create";\nexport type U = T;\n`,
      "nodes/pool.ts": `export const z = 1;\n`,
      "tasks/limits.ts": `import { z } from "../nodes/pool";\nexport const w = z;\n`,
    });
    const pairs = mutualPairs(root);
    expect(pairs.map((p) => p.units)).toEqual([["runs", "tasks"]]);
    expect(describePair(pairs[0]!)).toBe(`lib/runs <-> lib/tasks\n  lib/runs/redrive.ts:2 imports "@/lib/tasks/create"\n  lib/tasks/create.ts:1 imports "../runs/start"`);
  });

  it("counts re-exports and dynamic imports, and a root file as a unit of its own", () => {
    const root = tree({
      "config.ts": `export * from "./secrets/envelope";\n`,
      "secrets/envelope.ts": `export async function load() {\n  return (await import("../config")).x;\n}\n`,
      "http/respond.ts": `export { config } from "@/lib/config";\n`,
    });
    expect(mutualPairs(root).map((p) => p.units)).toEqual([["config", "secrets"]]);
  });

  it("ignores test files, imports within one unit and imports from outside lib/", () => {
    const root = tree({
      "runs/start.ts": `import { a } from "./claim";\nimport { b } from "@/db/schema";\nimport { z } from "zod";\nexport const x = [a, b, z];\n`,
      "runs/claim.ts": `export const a = 1;\n`,
      "tasks/create.ts": `import { x } from "../runs/start";\nexport const y = x;\n`,
      "runs/start.test.ts": `import { y } from "../tasks/create";\n`,
    });
    expect(mutualPairs(root)).toEqual([]);
  });

  it("exits 1 on a pair and 0 on none when run as the test command runs it", () => {
    const script = path.join(import.meta.dirname, "check-lib-layers.ts");
    const run = (root: string) => {
      try {
        execFileSync(process.execPath, ["--import", "tsx", script, root], { encoding: "utf8", stdio: "pipe" });
        return { status: 0, stderr: "" };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { status: failed.status, stderr: failed.stderr };
      }
    };
    const cyclic = run(tree({ "a/x.ts": `import "../b/y";\n`, "b/y.ts": `import "../a/x";\n` }));
    expect(cyclic.status).toBe(1);
    expect(cyclic.stderr).toContain("lib/a <-> lib/b");
    expect(run(tree({ "a/x.ts": `import "../b/y";\n`, "b/y.ts": `export {};\n` })).status).toBe(0);
  });
});
