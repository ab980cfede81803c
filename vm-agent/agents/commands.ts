/**
 * How each agent kind is launched: its command line and the environment it may see. `script`
 * runs the operator's command (trusted configuration, prompt only in $AGENT_PROMPT) or the
 * built-in deterministic agent. `claude-code` runs the real Claude Code CLI non-interactively with
 * its stream-json event stream, `codex` the Codex CLI's `exec` with its JSON events. Their prompt is
 * their standard input (a file the launcher opens), never an argument: every user of the node can
 * read `/proc/<pid>/cmdline`, and a prompt starting with `-` would be taken for an option.
 */
import fs from "node:fs";
import path from "node:path";
import { agentCliPackages, installedAgentCli } from "../../lib/agent-clis";
import type { AgentKind, SessionSecrets } from "../../lib/contracts/vm-agent";
import { helperScriptPath } from "../helper-scripts";


export type AgentSettings = {
  VM_AGENT_HELPERS_DIR?: string;
  SCRIPT_AGENT_COMMAND?: string;
  CLAUDE_CODE_BIN?: string;
  ANTHROPIC_BASE_URL?: string;
  CLAUDE_ALLOWED_TOOLS: string;
  CODEX_BIN?: string;
  OPENAI_BASE_URL?: string;
};

/** Where each agent kind's CLI reaches its model when the node names no base URL. */
const DEFAULT_MODEL_APIS: Partial<Record<AgentKind, string>> = { "claude-code": "https://api.anthropic.com", codex: "https://api.openai.com/v1" };

/**
 * The `host:port` of the model API an agent kind talks to (the node's ANTHROPIC_BASE_URL or
 * OPENAI_BASE_URL, else the vendor's): its workspace's egress allow-list admits it. None for `script`.
 */
export function modelApiHost(kind: AgentKind, settings: Pick<AgentSettings, "ANTHROPIC_BASE_URL" | "OPENAI_BASE_URL">): string | undefined {
  const configured = kind === "claude-code" ? settings.ANTHROPIC_BASE_URL : kind === "codex" ? settings.OPENAI_BASE_URL : undefined;
  const base = configured ?? DEFAULT_MODEL_APIS[kind];
  if (!base) return undefined;
  const url = new URL(base);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
}

/** `stdin`: what the agent reads on its standard input (its prompt); unset, it gets the session's terminal. */
export type AgentLaunch = { command: string[]; env: Record<string, string>; stdin?: string } | { unavailable: string };

/** What an agent or setup script may see: no control-plane tokens, no node secrets. */
export function agentEnvironment(extra: Record<string, string>): Record<string, string> {
  const allowed = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL", "GIT_SSL_CAINFO", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"];
  const env: Record<string, string> = {};
  for (const key of allowed) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return { ...env, ...extra };
}

/** The Claude Code CLI: the configured binary, else the native one in its npm platform package (lib/agent-clis.ts). */
export function claudeCodeBinary(configured: string | undefined): string | undefined {
  if (configured) return fs.existsSync(configured) ? configured : undefined;
  return installedAgentCli(agentCliPackages().CLAUDE_CODE_BIN, import.meta.url)?.binary;
}

/**
 * A folder in the agent's HOME, owned like the HOME (the workspace's user: the daemon makes it, the
 * agent writes it). Never through a link: the HOME is the workspace's, so a link planted at `dir` is
 * refused rather than followed (the caller holds the HOME meanwhile, sessions.ts `withHomeHeld`).
 */
function mkdirOwnedLikeHome(home: string, dir: string) {
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

export function agentLaunch(
  kind: AgentKind,
  context: { prompt: string; sessionId: string; home: string; settings: AgentSettings; secrets: SessionSecrets; resume?: string; model?: string },
): AgentLaunch {
  const { prompt, sessionId, home, settings, secrets, resume, model } = context;
  const base = { AGENT_SESSION_ID: sessionId, ...(model ? { AGENT_MODEL: model } : {}) };
  const modelFlag = model ? ["--model", model] : [];
  if (kind === "script") {
    const command = settings.SCRIPT_AGENT_COMMAND ? ["/bin/sh", "-c", settings.SCRIPT_AGENT_COMMAND] : [process.execPath, helperScriptPath("script-agent.mjs", settings.VM_AGENT_HELPERS_DIR)];
    return { command, env: agentEnvironment({ ...base, AGENT_PROMPT: prompt }) };
  }
  if (kind === "claude-code") {
    const binary = claudeCodeBinary(settings.CLAUDE_CODE_BIN);
    if (!binary) return { unavailable: "agent claude-code is not installed on this node: install @anthropic-ai/claude-code-${process.platform}-${process.arch} or set CLAUDE_CODE_BIN" };
    if (!secrets.ANTHROPIC_API_KEY) return { unavailable: "agent claude-code needs an ANTHROPIC_API_KEY, and the task's owner has none stored (Settings → Secrets)" };
    mkdirOwnedLikeHome(home, home);
    return {
      // `-p` without a prompt argument: the CLI reads the prompt from its standard input.
      command: [
        binary,
        "-p",
        ...(resume ? ["--resume", resume] : []),
        ...modelFlag,
        "--output-format",
        "stream-json",
        "--verbose",
        "--allowedTools",
        settings.CLAUDE_ALLOWED_TOOLS,
      ],
      env: agentEnvironment({
        ...base,
        // The CLI keeps its conversations under ~/.claude: one stable home per workspace.
        HOME: home,
        ANTHROPIC_API_KEY: secrets.ANTHROPIC_API_KEY,
        ...(settings.ANTHROPIC_BASE_URL ? { ANTHROPIC_BASE_URL: settings.ANTHROPIC_BASE_URL } : {}),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      }),
      stdin: prompt,
    };
  }
  if (kind === "codex") return codexLaunch({ prompt, home, settings, apiKey: secrets.OPENAI_API_KEY, resume, base, modelFlag });
  return { unavailable: `agent ${kind} is not installed on this node yet` };
}

/** The Codex CLI: the configured binary, else the native one in its npm platform package (lib/agent-clis.ts). */
export function codexBinary(configured: string | undefined): string | undefined {
  if (configured) return fs.existsSync(configured) ? configured : undefined;
  return installedAgentCli(agentCliPackages().CODEX_BIN, import.meta.url)?.binary;
}

function codexLaunch(context: { prompt: string; home: string; settings: AgentSettings; apiKey: string | undefined; resume?: string; base: Record<string, string>; modelFlag: string[] }): AgentLaunch {
  const { prompt, home, settings, apiKey, resume, base, modelFlag } = context;
  const binary = codexBinary(settings.CODEX_BIN);
  if (!binary) return { unavailable: `agent codex is not installed on this node: install @openai/codex-linux-${process.arch} or set CODEX_BIN` };
  if (!apiKey) return { unavailable: "agent codex needs an OPENAI_API_KEY, and the task's owner has none stored (Settings → Secrets)" };
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
  const flags = ["--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", ...provider, ...modelFlag];
  // `-` as the prompt: `codex exec` (and `exec resume`) read it from standard input.
  const command = resume ? [binary, "exec", "resume", ...flags, "--", resume, "-"] : [binary, "exec", ...flags, "--", "-"];
  return {
    command,
    env: agentEnvironment({ ...base, HOME: home, CODEX_HOME: codexHome, OPENAI_API_KEY: apiKey }),
    stdin: prompt,
  };
}

/** How the agent's own event stream says its run ended: an error message, or undefined. */
export function agentReportedError(kind: AgentKind, log: string): string | undefined {
  if (kind === "claude-code") return streamJsonError(log);
  if (kind === "codex") return codexJsonError(log);
  return undefined;
}

/** The agent CLI's conversation id from its event stream, for resuming on a follow-up. */
export function agentConversation(kind: AgentKind, log: string): string | undefined {
  if (kind === "claude-code") return streamJsonConversation(log);
  if (kind === "codex") return newestEvent(log, (e) => (e.type === "thread.started" && typeof e.thread_id === "string" ? e.thread_id : undefined));
  return undefined;
}

type CliEvent = Record<string, unknown> & { type?: string };

function newestEvent<T>(log: string, pick: (event: CliEvent) => T | undefined): T | undefined {
  for (const line of log.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      const found = pick(JSON.parse(line) as CliEvent);
      if (found !== undefined) return found;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Codex's --json stream ends a failed run with `turn.failed` (or a bare `error` event). */
export function codexJsonError(log: string): string | undefined {
  return newestEvent(log, (e) => {
    if (e.type === "turn.completed") return null;
    if (e.type === "turn.failed") return String((e.error as { message?: string } | undefined)?.message ?? "turn failed");
    if (e.type === "error") return String(e.message ?? "error");
    return undefined;
  }) ?? undefined;
}

/**
 * The error a stream-json run ended with, from the CLI's own final `result` event (never from the
 * model describing itself): undefined when the run reported success or left no result line.
 */
export function streamJsonError(log: string): string | undefined {
  const lines = log.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      const event = JSON.parse(line) as { type?: string; subtype?: string; is_error?: boolean; result?: string };
      if (event.type !== "result") continue;
      return event.is_error || event.subtype !== "success" ? `${event.subtype ?? "error"}: ${event.result ?? "no message"}` : undefined;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** The CLI's conversation id, from the newest `system` init event of its stream (for --resume). */
export function streamJsonConversation(log: string): string | undefined {
  for (const line of log.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      const event = JSON.parse(line) as { type?: string; subtype?: string; session_id?: string };
      if (event.type === "system" && event.session_id) return event.session_id;
    } catch {
      continue;
    }
  }
  return undefined;
}
