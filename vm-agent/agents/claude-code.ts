/**
 * The Claude Code CLI, non-interactively with its stream-json events (lib/contracts/agents/claude-code.ts
 * reads them). `-p` without a prompt argument: the CLI reads the prompt from its standard input.
 */
import { agentEnvironment, mkdirOwnedLikeHome, type AgentLauncher } from "./launch";

export const claudeCodeLauncher: AgentLauncher = {
  homeFolders: [".claude"],
  launch: ({ prompt, home, settings, keys, resume, model, binary, base, inherited }) => {
    mkdirOwnedLikeHome(home, home);
    return {
      command: [
        binary,
        "-p",
        ...(resume ? ["--resume", resume] : []),
        ...(model ? ["--model", model] : []),
        "--output-format",
        "stream-json",
        "--verbose",
        "--allowedTools",
        settings.CLAUDE_ALLOWED_TOOLS,
      ],
      env: agentEnvironment(inherited, {
        ...base,
        // The CLI keeps its conversations under ~/.claude: one stable home per workspace.
        HOME: home,
        ...keys,
        ...(settings.ANTHROPIC_BASE_URL ? { ANTHROPIC_BASE_URL: settings.ANTHROPIC_BASE_URL } : {}),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      }),
      stdin: prompt,
    };
  },
};
