/**
 * What launching any agent needs, whatever its CLI: the allow-listed environment, its binary (from
 * its adapter's npm package when the node names none), and folders in its HOME made safely.
 */
import fs from "node:fs";
import type { InheritedEnvironment, InheritedVariable } from "../config";
import type { AgentAdapter, CliSetting, ModelApiSetting } from "../../lib/contracts/agents";
import { installedAgentCli } from "../../lib/contracts/agents/installed-cli";

/** The daemon's settings an agent's launch reads: each CLI's binary and model API (named by its adapter), and the agents' own. */
export type AgentSettings = Partial<Record<CliSetting | ModelApiSetting, string>> & {
  VM_AGENT_HELPERS_DIR?: string;
  SCRIPT_AGENT_COMMAND?: string;
  CLAUDE_ALLOWED_TOOLS: string;
};

/** `stdin`: what the agent reads on its standard input (its prompt); unset, it gets the session's terminal. */
export type AgentLaunch = { command: string[]; env: Record<string, string>; stdin?: string } | { unavailable: string };

export type LaunchContext = {
  prompt: string;
  sessionId: string;
  home: string;
  settings: AgentSettings;
  /** The model keys its adapter names, each handed with the request (its environment carries them). */
  keys: Record<string, string>;
  /** The CLI's conversation to continue (a follow-up). */
  resume?: string;
  model?: string;
  /** The CLI's binary (for an agent whose adapter names one), found. */
  binary: string;
  /** What every agent's environment carries: its session, and its model when one was chosen. */
  base: Record<string, string>;
  /** The daemon's inherited variables (config.ts), of which agentEnvironment passes some on. */
  inherited: InheritedEnvironment;
};

/** How the daemon starts one agent's CLI; its adapter (lib/contracts/agents) says the rest. */
export type AgentLauncher = {
  launch(context: LaunchContext): AgentLaunch;
  /** The folders its CLI keeps in the agent's HOME, which its launch may create (made while the HOME is held). */
  homeFolders: readonly string[];
};

/** What an agent or setup script may see of the daemon's environment: no control-plane tokens, no node secrets. */
const AGENT_VARIABLES = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL", "GIT_SSL_CAINFO", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] as const satisfies readonly InheritedVariable[];

/** An agent's or setup script's environment: those of the daemon's inherited variables it may see, then `extra`. */
export function agentEnvironment(inherited: InheritedEnvironment, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of AGENT_VARIABLES) if (inherited[key] !== undefined) env[key] = inherited[key];
  return { ...env, ...extra };
}

/** An agent's CLI: the binary the node's setting names, else the native one in its npm platform package. */
export function cliBinary(cli: NonNullable<AgentAdapter["cli"]>, configured: string | undefined): string | undefined {
  if (configured) return fs.existsSync(configured) ? configured : undefined;
  return installedAgentCli(cli.npmPackage(process.platform, process.arch), import.meta.url)?.binary;
}

/** Why an agent whose CLI is missing cannot run here, and what would fix it. */
export function notInstalled(name: string, cli: NonNullable<AgentAdapter["cli"]>): string {
  const pkg = cli.npmPackage(process.platform, process.arch);
  const install = pkg ? `install ${pkg.packageName} or set ${cli.binSetting}` : `set ${cli.binSetting} (its npm package has no build for ${process.platform} ${process.arch})`;
  return `agent ${name} is not installed on this node: ${install}`;
}

/**
 * A folder in the agent's HOME, owned like the HOME (the workspace's user: the daemon makes it, the
 * agent writes it). Never through a link: the HOME is the workspace's, so a link planted at `dir` is
 * refused rather than followed (the caller holds the HOME meanwhile, sessions.ts `withHomeHeld`).
 */
export function mkdirOwnedLikeHome(home: string, dir: string) {
  const owner = fs.lstatSync(home);
  if (!owner.isDirectory()) throw new Error(`the agent's HOME ${home} is not a folder`);
  if (dir !== home) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  if (!fs.lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a folder (a link?): refusing to prepare it`);
  fs.lchownSync(dir, owner.uid, owner.gid);
}
