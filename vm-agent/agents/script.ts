/** The `script` agent: the operator's command (trusted configuration, the prompt only in $AGENT_PROMPT), or the built-in deterministic agent. */
import { helperScriptPath } from "../helper-scripts";
import { agentEnvironment, type AgentLauncher } from "./launch";

export const scriptLauncher: AgentLauncher = {
  homeFolders: [],
  launch: ({ prompt, settings, base, inherited }) => {
    const command = settings.SCRIPT_AGENT_COMMAND ? ["/bin/sh", "-c", settings.SCRIPT_AGENT_COMMAND] : [process.execPath, helperScriptPath("script-agent.mjs", settings.VM_AGENT_HELPERS_DIR)];
    return { command, env: agentEnvironment(inherited, { ...base, AGENT_PROMPT: prompt }) };
  },
};
