/**
 * What a local node needs from the distribution: git, tmux (its agents' sessions) and socat (the
 * way out of each workspace's network namespace, vm-agent/egress/). A root `npm start` on a fresh
 * Debian installs what is missing, as `npm test` does, and says so; otherwise it names what is
 * missing (the node then reports why it refuses workspaces, or cannot start them).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

const PACKAGES = [
  { name: "git", binary: "/usr/bin/git" },
  { name: "tmux", binary: "/usr/bin/tmux" },
  { name: "socat", binary: "/usr/bin/socat" },
] as const;

export async function ensureNodePackages(log: (line: string) => void): Promise<void> {
  const missing = PACKAGES.filter((pkg) => !fs.existsSync(pkg.binary)).map((pkg) => pkg.name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !fs.existsSync("/usr/bin/apt-get")) {
    log(`Local nodes need ${missing.join(", ")}, which this machine lacks: install ${missing.length === 1 ? "it" : "them"} (apt-get install ${missing.join(" ")}).`);
    return;
  }
  log(`Installing ${missing.join(", ")} from Debian (local nodes need ${missing.length === 1 ? "it" : "them"})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run("apt-get", ["update", "-qq"], { env, timeout: 10 * 60_000 });
    await run("apt-get", ["install", "-y", "-qq", ...missing], { env, timeout: 10 * 60_000 });
  } catch (error) {
    log(`Could not install ${missing.join(", ")}: ${(error as Error).message.split("\n")[0]}. Local nodes will say what they lack.`);
  }
}
