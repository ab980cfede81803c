/** The launcher for real: /bin/sh loads the environment file, deletes it and runs the agent. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeEnvFile } from "./env-file";
import { ExitFiles } from "./exit-files";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

function folder() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-env-"));
  dirs.push(dir);
  return dir;
}

describe("the agent's environment file", () => {
  it("carries every value to the agent unchanged, runs nothing in it, and is gone once loaded", () => {
    const dir = folder();
    const marker = path.join(dir, "expanded");
    const values = {
      QUOTES: `it's "quoted" '\\'' and ''`,
      SPACES: "  a  b\tc  ",
      NEWLINES: "line 1\nline 2\n\n",
      DOLLARS: `$HOME \${PATH} $(touch ${marker}) $1 $@`,
      BACKTICKS: `\`touch ${marker}\``,
      BACKSLASHES: "a\\nb\\",
      EMPTY: "",
      GLOB: "* ? [a]",
      UNICODE: "ключ ✓ 🔑",
    };
    const logFile = path.join(dir, "agent.log");
    const exitFile = path.join(dir, "exit");
    const envFile = writeEnvFile(path.join(dir, "agent.env"), { ...values, ACP_LOG: logFile, ACP_EXIT: exitFile });
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);

    const [shell, ...args] = ExitFiles.wrap(envFile, process.execPath, ["-e", "process.stdout.write(JSON.stringify(process.env))"]);
    const launched = spawnSync(shell!, args, { env: { PATH: process.env.PATH ?? "" } as Record<string, string> as NodeJS.ProcessEnv, encoding: "utf8" });
    expect(launched.status).toBe(0);

    const seen = JSON.parse(fs.readFileSync(logFile, "utf8")) as Record<string, string>;
    for (const [name, value] of Object.entries(values)) expect(seen[name], name).toBe(value);
    expect(fs.readFileSync(exitFile, "utf8")).toBe("0");
    expect(fs.existsSync(envFile)).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("refuses a name the shell would not read as a plain assignment", () => {
    const dir = folder();
    expect(() => writeEnvFile(path.join(dir, "a.env"), { "X; touch y": "1" })).toThrow(/not an environment variable name/);
    expect(() => writeEnvFile(path.join(dir, "b.env"), { X: "a\0b" })).toThrow(/NUL/);
  });
});
