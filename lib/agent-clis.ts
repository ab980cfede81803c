/**
 * Where the agent CLIs' native binaries are when npm installed them: each in its platform package
 * (an optional dependency). The daemon looks for them from its own folder when no binary is
 * configured (vm-agent/agents/commands.ts); the local provider finds them in the checkout and
 * installs them where workspace users can run them (lib/nodes/artifacts/local-install.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

/** The vm-agent setting that names each CLI's binary. */
export type AgentCliSetting = "CLAUDE_CODE_BIN" | "CODEX_BIN";
/** `binary`: the executable, relative to the package's folder. */
export type AgentCliPackage = { setting: AgentCliSetting; packageName: string; binary: string };

const CODEX_TRIPLES: Record<string, string> = { x64: "x86_64-unknown-linux-musl", arm64: "aarch64-unknown-linux-musl" };

/**
 * The packages for this platform and CPU. Claude Code's wrapper package asks for Node 22, so npm
 * skips it on Node 20, while the native binary needs no Node at all; Codex ships Linux builds only.
 */
export function agentCliPackages(platform: string = process.platform, arch: string = process.arch): Record<AgentCliSetting, AgentCliPackage | undefined> {
  const triple = CODEX_TRIPLES[arch];
  return {
    CLAUDE_CODE_BIN: { setting: "CLAUDE_CODE_BIN", packageName: `@anthropic-ai/claude-code-${platform}-${arch}`, binary: "claude" },
    CODEX_BIN: platform === "linux" && triple ? { setting: "CODEX_BIN", packageName: `@openai/codex-linux-${arch}`, binary: path.join("vendor", triple, "bin", "codex") } : undefined,
  };
}

/** The package's folder and binary as resolved from `from` (a file or module URL), when installed there. */
export function installedAgentCli(pkg: AgentCliPackage | undefined, from: string): { packageDir: string; binary: string } | undefined {
  if (!pkg) return undefined;
  try {
    const packageDir = path.dirname(createRequire(from).resolve(`${pkg.packageName}/package.json`));
    const binary = path.join(packageDir, pkg.binary);
    return fs.existsSync(binary) ? { packageDir, binary } : undefined;
  } catch {
    return undefined;
  }
}
