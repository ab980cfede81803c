/** The launcher that tmux runs: it loads the agent's environment (PATH included) and never runs a program found through it. */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExitFiles } from "./exit-files";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the agent's launcher", () => {
  it("records the exit code with its own programs, not ones a PATH in the agent's environment names", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-launcher-"));
    dirs.push(dir);
    // A folder the workspace could write, first on the agent's PATH, with its own rm and mv.
    const planted = path.join(dir, "planted");
    fs.mkdirSync(planted);
    const marker = path.join(dir, "ran-as-launcher");
    for (const name of ["rm", "mv"]) fs.writeFileSync(path.join(planted, name), `#!/bin/sh\necho ${name} >> '${marker}'\n`, { mode: 0o755 });
    const exits = new ExitFiles(path.join(dir, "exits"));
    const record = { sessionId: "s1", generation: 1 };
    const envFile = path.join(dir, "agent.env");
    fs.writeFileSync(envFile, [`PATH='${planted}:/usr/bin:/bin'`, `ACP_LOG='${path.join(dir, "agent.log")}'`, `ACP_EXIT='${exits.file(record)}'`].join("\n") + "\n", { mode: 0o600 });

    const [shell, ...args] = ExitFiles.wrap(envFile, "/bin/sh", ["-c", "exit 3"]);
    const run = spawnSync(shell!, args, { encoding: "utf8" });

    expect(run.status).toBe(0);
    expect(exits.read(record)).toBe(3);
    expect(fs.existsSync(envFile), "the environment file is deleted").toBe(false);
    expect(fs.existsSync(marker), "a planted rm or mv ran").toBe(false);
  });

  it("outlives an interrupt of its process group and records the interrupted agent's exit code", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-launcher-"));
    dirs.push(dir);
    const exits = new ExitFiles(path.join(dir, "exits"));
    const record = { sessionId: "s1", generation: 1 };
    const envFile = path.join(dir, "agent.env");
    const started = path.join(dir, "started");
    fs.writeFileSync(envFile, [`ACP_LOG='${path.join(dir, "agent.log")}'`, `ACP_EXIT='${exits.file(record)}'`].join("\n") + "\n", { mode: 0o600 });

    // The agent takes SIGINT as a program at a terminal does (default action: it ends); a group of its own, as tmux gives the pane.
    const [shell, ...args] = ExitFiles.wrap(envFile, "/bin/sh", ["-c", `touch '${started}'; exec sleep 600`]);
    const launcher = spawn(shell!, args, { detached: true, stdio: "ignore" });
    const ended = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
    while (!fs.existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(-launcher.pid!, "SIGINT");

    expect(await ended).toBe(0);
    expect(exits.read(record)).toBe(130);
  });
});
