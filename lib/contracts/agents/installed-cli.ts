/**
 * Where the agent CLIs' native binaries are when npm installed them: each in its platform package
 * (an optional dependency), as its adapter names it. The daemon looks for them from its own folder
 * when no binary is configured (vm-agent/agents/launch.ts); the local provider finds them in the
 * checkout and installs them where workspace users can run them (lib/nodes/artifacts/local-install.ts).
 * Node only: the registry (index.ts), which the browser reads too, does not import this.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import type { CliPackage } from "./adapter";
import { AGENTS, type CliSetting } from "./index";

export type { CliSetting as AgentCliSetting } from "./index";
/** `binary`: the executable, relative to the package's folder. */
export type AgentCliPackage = CliPackage & { setting: CliSetting };

/** The packages for this platform and CPU, by the daemon setting that names each CLI's binary; none where a CLI ships no build. */
export function agentCliPackages(platform: string = process.platform, arch: string = process.arch): Partial<Record<CliSetting, AgentCliPackage>> {
  const packages: Partial<Record<CliSetting, AgentCliPackage>> = {};
  for (const agent of AGENTS) {
    if (!("cli" in agent)) continue;
    const pkg = agent.cli.npmPackage(platform, arch);
    if (pkg) packages[agent.cli.binSetting] = { ...pkg, setting: agent.cli.binSetting };
  }
  return packages;
}

/** The package's folder and binary as resolved from `from` (a file or module URL), when installed there. */
export function installedAgentCli(pkg: CliPackage | undefined, from: string): { packageDir: string; binary: string } | undefined {
  if (!pkg) return undefined;
  try {
    const packageDir = path.dirname(createRequire(from).resolve(`${pkg.packageName}/package.json`));
    const binary = path.join(packageDir, pkg.binary);
    return fs.existsSync(binary) ? { packageDir, binary } : undefined;
  } catch {
    return undefined;
  }
}
