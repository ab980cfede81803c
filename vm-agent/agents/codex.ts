/** The Codex CLI's `exec` with its JSON events (lib/contracts/agents/codex.ts reads them); follow-ups `exec resume`. */
import path from "node:path";
import { agentEnvironment, mkdirOwnedLikeHome, type AgentLauncher } from "./launch";

export const codexLauncher: AgentLauncher = {
  homeFolders: [".codex"],
  launch: ({ prompt, home, settings, keys, resume, model, binary, base, inherited }) => {
    const codexHome = path.join(home, ".codex");
    mkdirOwnedLikeHome(home, codexHome);
    // A custom base URL becomes a model provider speaking the Responses API. It is operator
    // configuration, validated as a URL; a quote would break out of the TOML string, so it is refused.
    const provider =
      settings.OPENAI_BASE_URL && !settings.OPENAI_BASE_URL.includes('"')
        ? ["-c", "model_provider=acp", "-c", `model_providers.acp={name="acp",base_url="${settings.OPENAI_BASE_URL}",env_key="OPENAI_API_KEY",wire_api="responses"}`]
        : [];
    // The node is the isolation boundary (a machine per workspace owner), so Codex's own sandbox,
    // which needs user namespaces that many VMs lack, is bypassed rather than left to fail.
    const flags = ["--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", ...provider, ...(model ? ["--model", model] : [])];
    // `-` as the prompt: `codex exec` (and `exec resume`) read it from standard input.
    const command = resume ? [binary, "exec", "resume", ...flags, "--", resume, "-"] : [binary, "exec", ...flags, "--", "-"];
    return {
      command,
      env: agentEnvironment(inherited, { ...base, HOME: home, CODEX_HOME: codexHome, ...keys }),
      stdin: prompt,
    };
  },
};
