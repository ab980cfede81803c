/**
 * The `script` agent: the node operator's SCRIPT_AGENT_COMMAND, or the built-in deterministic one
 * (vm-agent/agents/script-agent.mjs) that runs the whole flow offline. Its output is plain text: no
 * line is an event of its own, so each is shown as it is (unless it is another CLI's event: an
 * operator's script may speak one), and only its exit says how its run ended; its last line of
 * text is its closing summary. It takes no model and no key, and reaches no model API.
 */
import { defineAgent, plainLines } from "./adapter";

export const script = defineAgent({
  name: "script",
  label: "Script",
  output: plainLines,
  keys: [],
});
