/**
 * The command line of each agent kind. `script` runs the operator's command (trusted
 * configuration, prompt only in $AGENT_PROMPT) or the built-in deterministic agent. The CLI
 * agents are not installed by this daemon yet: their sessions fail at once with a clear message.
 */
import { fileURLToPath } from "node:url";
import type { AgentKind } from "../../lib/contracts/vm-agent";

const BUILT_IN_SCRIPT_AGENT = fileURLToPath(new URL("./script-agent.mjs", import.meta.url));

export type AgentCommand = { command: string[] } | { unavailable: string };

export function agentCommand(kind: AgentKind, scriptCommand: string | undefined): AgentCommand {
  if (kind !== "script") return { unavailable: `agent ${kind} is not installed on this node yet` };
  if (scriptCommand) return { command: ["/bin/sh", "-c", scriptCommand] };
  return { command: [process.execPath, BUILT_IN_SCRIPT_AGENT] };
}

/** What an agent or setup script may see: no control-plane tokens, no node secrets. */
export function agentEnvironment(extra: Record<string, string>): Record<string, string> {
  const allowed = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL"];
  const env: Record<string, string> = {};
  for (const key of allowed) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return { ...env, ...extra };
}
