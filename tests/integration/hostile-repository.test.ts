/**
 * A hostile repository on a local node run as root: its setup script tries every way out the
 * workspace boundary closes (links and hardlinks to the machine's files, git config that would run
 * programs in the daemon's git, the control plane, the engine and the metadata service on the
 * network, secrets in other processes' argument lists) and writes down what it reached. Afterwards
 * nothing outside the workspace changed, and every attempt reached nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readLocalToken } from "@/lib/auth/local";
import { describeNeedingRoot } from "../harness/needs-root";
import { makeRepo } from "../harness/git";
import { untilFinished } from "../harness/live-client";
import { sharedTempDir } from "../harness/shared-dir";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
beforeAll(async () => {
  if (process.getuid?.() === 0) system = await startTestSystem();
});
afterAll(async () => system?.stop());

const stat = (file: string) => {
  const s = fs.lstatSync(file);
  return { uid: s.uid, gid: s.gid, mode: s.mode, size: s.size };
};

describeNeedingRoot("a hostile repository on a local node run as root", () => {
  it("reaches nothing outside its workspace: no file, no link target, no root git, no route home, no secret", async () => {
    const secretKey = "sk-ant-hostile-canary";
    expect((await system.api("PUT", "/api/secrets/ANTHROPIC_API_KEY", { value: secretKey })).status).toBe(200);
    // The machine's things the repository goes for: a root-only folder and a root-owned file beside it.
    const canary = sharedTempDir("acp-canary-");
    const secretDir = path.join(canary, "root-only");
    fs.mkdirSync(secretDir, { mode: 0o700 });
    fs.writeFileSync(path.join(secretDir, "secret"), "root's secret\n", { mode: 0o600 });
    const rootFile = path.join(canary, "root-file");
    fs.writeFileSync(rootFile, "root's file\n", { mode: 0o644 });
    const before = { dir: stat(secretDir), secret: stat(path.join(secretDir, "secret")), file: stat(rootFile) };
    const out = sharedTempDir("acp-hostile-out-");
    // With a marker the script itself puts in an argument list: the scan finds what is there (once).
    const control = `control-marker-${process.pid}`;
    fs.writeFileSync(path.join(out, "secrets"), `${readLocalToken(system.dataDir)}\n${secretKey}\n${control}\n`, { mode: 0o644 });
    const app = new URL(system.appUrl);
    const probe = (name: string, command: string) => `if ${command} >/dev/null 2>&1; then echo ${name}=reached; else echo ${name}=refused; fi`;
    const status = (name: string, url: string, direct = false) => `echo "${name}=$(curl -s -o /dev/null -m 5 -w '%{http_code}' ${direct ? "--noproxy '*' " : ""}'${url}')"`;
    const setup = [
      "{",
      // Files and links.
      probe("read-root-secret", `cat '${secretDir}/secret'`),
      probe("write-root-file", `sh -c "echo pwned >> '${rootFile}'"`),
      probe("hardlink-root-file", `ln '${rootFile}' ./hardlink`),
      probe("symlink-into-root-folder", `sh -c "ln -s '${secretDir}' \\"$HOME/.claude\\" && ls \\"$HOME/.claude/\\""`),
      "ln -s '" + rootFile + "' ./committed-link",
      // Git config that would run programs in the daemon's git (as root, it would write uid 0).
      `git config core.fsmonitor "sh -c 'id -u >> ${out}/fsmonitor-uids'"`,
      `git config core.hooksPath .githooks && mkdir -p .githooks && printf '#!/bin/sh\\nid -u >> ${out}/hook-uids\\n' > .githooks/pre-commit && chmod +x .githooks/pre-commit`,
      `git config credential.helper "!sh -c 'id -u >> ${out}/credential-uids'"`,
      `git config filter.hostile.clean "sh -c 'id -u >> ${out}/filter-uids; cat'" && echo '* filter=hostile' > .gitattributes`,
      // The network: the control plane, the engine, the metadata service, through the proxy and past it.
      status("control-plane", `http://127.0.0.1:${app.port}/api/tasks`),
      status("engine", "http://127.0.0.1:8288/v0/gql"),
      status("metadata", "http://169.254.169.254/hetzner/v1/metadata"),
      status("control-plane-direct", `http://127.0.0.1:${app.port}/api/tasks`, true),
      status("engine-direct", "http://127.0.0.1:8288/", true),
      // Secrets in any process's argument list, and how many processes were looked at.
      `sh -c 'sleep 10' ${control} & control=$!`,
      `echo "processes-seen=$(ls -d /proc/[0-9]* | wc -l)"`,
      // The secrets to look for come from a file: written in this grep's own arguments, they would be found there.
      `echo "cmdline-secrets=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c -F -f '${out}/secrets')"`,
      "kill $control",
      `} > '${out}/probes' 2>/dev/null`,
    ].join("\n");
    const repo = makeRepo({ ".agent/setup.sh": `${setup}\n` });
    const { status: submitted, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Escape", egress: "full" });
    expect(submitted, JSON.stringify(body)).toBe(202);
    const { done } = await untilFinished(system, (body as { taskId: string }).taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");

    const probes = Object.fromEntries(fs.readFileSync(path.join(out, "probes"), "utf8").trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
    expect(Number(probes["processes-seen"])).toBeGreaterThan(5);
    delete probes["processes-seen"];
    expect(probes).toEqual({
      "read-root-secret": "refused",
      "write-root-file": "refused",
      "hardlink-root-file": "refused",
      "symlink-into-root-folder": "refused",
      // Even under `full`: the control plane and the engine are denied hosts, and past the proxy there is no route.
      "control-plane": "403",
      engine: "403",
      metadata: "403",
      "control-plane-direct": "000",
      "engine-direct": "000",
      // The control marker only: no token, no key.
      "cmdline-secrets": "1",
    });
    // Nothing outside the workspace changed owner, mode or content.
    expect({ dir: stat(secretDir), secret: stat(path.join(secretDir, "secret")), file: stat(rootFile) }).toEqual(before);
    expect(fs.readFileSync(rootFile, "utf8")).toBe("root's file\n");
    // The daemon's git ran no hook, fsmonitor or credential helper; the filter ran as the workspace's user, never root.
    for (const never of ["fsmonitor-uids", "hook-uids", "credential-uids"]) expect(fs.existsSync(path.join(out, never)), never).toBe(false);
    const filterUids = fs.readFileSync(path.join(out, "filter-uids"), "utf8").trim().split("\n");
    expect(filterUids.length).toBeGreaterThan(0);
    expect(filterUids.filter((uid) => uid === "0")).toEqual([]);
    // The link was committed as a link (its target's content never read into the branch).
    expect(done.diff?.files.map((f) => f.path)).toContain("committed-link");
  }, 150_000);
});
