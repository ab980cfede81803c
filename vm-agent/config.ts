/** The vm-agent's settings, read once from its environment and validated. */
import { z } from "zod";
import { durationField } from "../lib/duration";

const int = (d: number, min = 0) => z.coerce.number().int().min(min).default(d);

export const VmAgentConfigSchema = z.object({
  VM_AGENT_HOST: z.string().default("127.0.0.1"),
  VM_AGENT_PORT: z.coerce.number().int().min(0).max(65535),
  NODE_ID: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  CONTROL_PLANE_URL: z.string().url(),
  /** Token for the node's own callbacks (audience node-callback). */
  NODE_CALLBACK_TOKEN: z.string().min(1),
  /** The control plane's public key (a JWK as JSON): management calls are verified with it. */
  CONTROL_PLANE_PUBLIC_JWK: z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      ctx.addIssue({ code: "custom", message: "is not JSON" });
      return z.NEVER;
    }
  }),
  VM_AGENT_WORK_DIR: z.string().min(1),
  /** The `script` agent's command, run by /bin/sh in the worktree with the prompt in $AGENT_PROMPT. */
  SCRIPT_AGENT_COMMAND: z.string().optional(),
  /** The Claude Code CLI; unset uses the native binary of the installed npm platform package. */
  CLAUDE_CODE_BIN: z.string().optional(),
  /** The model provider credentials the claude-code agent gets (and no other process). */
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  CLAUDE_ALLOWED_TOOLS: z.string().default("Bash,Edit,Write,Read,Glob,Grep,LS"),
  SETUP_SCRIPT: z.string().default(".agent/setup.sh"),
  SETUP_TIMEOUT: durationField("10m"),
  AGENT_TIMEOUT: durationField("4h"),
  GIT_PUSH: z.enum(["auto", "never"]).default("auto"),
  GIT_AUTHOR_NAME: z.string().default("Coding Agent"),
  GIT_AUTHOR_EMAIL: z.string().default("agent@localhost"),
  CALLBACK_MAX_ATTEMPTS: int(5, 1),
  CALLBACK_MAX_ELAPSED: durationField("2m"),
  CALLBACK_BASE_DELAY: durationField("1s"),
  CALLBACK_MAX_DELAY: durationField("30s"),
  CALLBACK_REQUEST_TIMEOUT: durationField("10s"),
  /** The vm-agent's own tmux socket (`tmux -L`); default `acp-<NODE_ID>`. */
  TMUX_SOCKET: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).optional(),
  /** How often an agent's new output is sent to the control plane, as one batch. */
  OUTPUT_FLUSH_INTERVAL: durationField("500ms"),
  /** How long a stopped agent gets after its interrupt before it is killed. */
  STOP_GRACE: durationField("5s"),
});

export type VmAgentConfig = z.infer<typeof VmAgentConfigSchema>;

export function parseVmAgentConfig(env: Record<string, string | undefined>): VmAgentConfig {
  const result = VmAgentConfigSchema.safeParse(env);
  if (!result.success) {
    throw new Error(`invalid vm-agent configuration: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return result.data;
}
