/**
 * How each agent kind is launched and how its run's output is read, each driven by its adapter
 * (lib/contracts/agents): its launcher here says its command line and environment, the adapter its
 * binary, its model keys, its model API and what its output says. A CLI's prompt is its standard
 * input (a file the launcher opens), never an argument: every user of the node can read
 * `/proc/<pid>/cmdline`, and a prompt starting with `-` would be taken for an option.
 */
import { agentAdapter, type AgentKind, type ModelApiSetting } from "../../lib/contracts/agents";
import type { SessionSecrets } from "../../lib/contracts/vm-agent";
import type { TurnUsage } from "../../lib/contracts/usage";
import type { InheritedEnvironment } from "../config";
import { claudeCodeLauncher } from "./claude-code";
import { codexLauncher } from "./codex";
import { cliBinary, notInstalled, type AgentLaunch, type AgentLauncher, type AgentSettings } from "./launch";
import { scriptLauncher } from "./script";

export { agentEnvironment, type AgentLaunch, type AgentSettings } from "./launch";

/** One launcher per agent kind: a new adapter without one does not compile. */
const LAUNCHERS: Record<AgentKind, AgentLauncher> = { script: scriptLauncher, "claude-code": claudeCodeLauncher, codex: codexLauncher };

/** The folders agent CLIs keep in the agent's HOME, which their launch creates. */
export const AGENT_HOME_FOLDERS: string[] = Object.values(LAUNCHERS).flatMap((launcher) => launcher.homeFolders);

/**
 * The `host:port` of the model API an agent kind talks to (the node's setting its adapter names,
 * else the vendor's): its workspace's egress allow-list admits it. None for an agent without one.
 */
export function modelApiHost(kind: AgentKind, settings: Partial<Record<ModelApiSetting, string>>): string | undefined {
  const adapter = agentAdapter(kind);
  if (!("modelApi" in adapter)) return undefined;
  const url = new URL(settings[adapter.modelApi.baseUrlSetting] ?? adapter.modelApi.defaultUrl);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
}

export function agentLaunch(
  kind: AgentKind,
  context: { prompt: string; sessionId: string; home: string; settings: AgentSettings; secrets: SessionSecrets; resume?: string; model?: string; inherited: InheritedEnvironment },
): AgentLaunch {
  const { secrets, settings, model, ...rest } = context;
  const adapter = agentAdapter(kind);
  let binary = "";
  if ("cli" in adapter) {
    const found = cliBinary(adapter.cli, settings[adapter.cli.binSetting]);
    if (!found) return { unavailable: notInstalled(kind, adapter.cli) };
    binary = found;
  }
  const keys: Record<string, string> = {};
  for (const { name } of adapter.keys) {
    const value = secrets[name];
    if (!value) return { unavailable: `agent ${kind} needs an ${name}, and the task's owner has none stored (Settings → Secrets)` };
    keys[name] = value;
  }
  const base = { AGENT_SESSION_ID: context.sessionId, ...(model ? { AGENT_MODEL: model } : {}) };
  return LAUNCHERS[kind].launch({ ...rest, settings, model, keys, binary, base });
}

/** How the agent's own event stream says its run ended: an error message, or undefined. */
export const agentReportedError = (kind: AgentKind, log: string): string | undefined => agentAdapter(kind).output.runError(log);

/** What the turn used, from the CLI's own event stream (undefined when it says nothing). */
export const agentUsage = (kind: AgentKind, log: string): TurnUsage | undefined => agentAdapter(kind).output.usage(log);

/** The agent's closing summary of the run, whole (redact it, then clip it, before it leaves the node). */
export const agentSummary = (kind: AgentKind, log: string): string | undefined => agentAdapter(kind).output.summary(log);

/** The agent CLI's conversation id from its event stream, for resuming on a follow-up. */
export const agentConversation = (kind: AgentKind, log: string): string | undefined => agentAdapter(kind).output.conversationId(log);
