/**
 * The vm-agent's settings, read once from its environment and validated; and the part of that
 * environment its children may inherit. The one module of the daemon that reads `process.env`
 * (main.ts hands it here): everything else is handed what it needs.
 */
import { z } from "zod";
import { LOG_LEVELS } from "../lib/contracts/log";
import { callbackUrlProblem } from "../lib/contracts/tls";
import { Id } from "../lib/contracts/vm-agent";
import { durationField } from "../lib/contracts/duration";
import { givenSettings } from "../lib/contracts/settings";

/** An integer given as text (env) or a number; "" and "1.5" are refused rather than coerced. */
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (value) => (typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z.number({ error: "must be a whole number" }).int("must be a whole number").min(min).max(max),
  );
const int = (d: number, min = 0) => integer(min).default(d);

export const VmAgentConfigSchema = z.object({
  VM_AGENT_HOST: z.string().default("127.0.0.1"),
  /**
   * The address the control plane reaches this daemon at, reported in its ready callback: a cloud
   * machine listens on every address (VM_AGENT_HOST 0.0.0.0) and names its public IP here, a
   * registered machine the address it registered with. Default: VM_AGENT_HOST.
   */
  VM_AGENT_PUBLIC_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, "must be an IP address or a host name")
    .optional(),
  /** 0 picks a free port (the local provider and tests). */
  VM_AGENT_PORT: integer(0, 65535),
  NODE_ID: Id,
  /** Where callbacks go: https://, or http:// to a control plane on this machine (loopback) only. */
  CONTROL_PLANE_URL: z
    .string()
    .url()
    .superRefine((url, ctx) => {
      const problem = callbackUrlProblem(url);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  /** Token for the node's own callbacks (audience node-callback). */
  NODE_CALLBACK_TOKEN: z.string().min(1),
  /** The control plane's public key (a JWK as JSON): management calls are verified with it. */
  CONTROL_PLANE_PUBLIC_JWK: z.string().transform((text, ctx) => {
    try {
      const jwk: unknown = JSON.parse(text);
      if (typeof jwk === "object" && jwk !== null && !Array.isArray(jwk) && "kty" in jwk && !("d" in jwk)) return jwk as Record<string, unknown>;
      ctx.addIssue({ code: "custom", message: "must be a public JWK object (with kty, without the private d)" });
    } catch {
      ctx.addIssue({ code: "custom", message: "is not JSON" });
    }
    return z.NEVER;
  }),
  /** Everything the daemon keeps: `workspaces/<id>/repo`, `state/`, `outbox/`. */
  VM_AGENT_WORK_DIR: z.string().min(1),
  /**
   * Where the helpers its workspaces' users run are (`script-agent.mjs`, `git-credential.mjs`);
   * unset: beside the daemon's own code. Every folder on the way must let other users pass.
   */
  VM_AGENT_HELPERS_DIR: z.string().regex(/^\//, "must be an absolute path").optional(),
  /** The `script` agent's command, run by /bin/sh in the worktree with the prompt in $AGENT_PROMPT. */
  SCRIPT_AGENT_COMMAND: z.string().optional(),
  /** The Claude Code CLI; unset uses the native binary of the installed npm platform package. */
  CLAUDE_CODE_BIN: z.string().optional(),
  /** Where the claude-code agent reaches its model (its key comes with each session's start request). */
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  /** The Codex CLI; unset uses the native binary of the installed npm platform package. */
  CODEX_BIN: z.string().optional(),
  /** An optional Responses API base URL for the codex agent (its key comes with each session's start request). */
  OPENAI_BASE_URL: z.string().url().optional(),
  CLAUDE_ALLOWED_TOOLS: z.string().default("Bash,Edit,Write,Read,Glob,Grep,LS"),
  /** Relative to the worktree; a path that leaves it is never run. */
  SETUP_SCRIPT: z.string().min(1).default(".agent/setup.sh"),
  SETUP_TIMEOUT: durationField("10m"),
  AGENT_TIMEOUT: durationField("4h"),
  /** How long a turn's checks (vm-agent/checks.ts) may run, all of them together; what is still running then is killed and fails. */
  CHECK_TIMEOUT: durationField("15m"),
  GIT_PUSH: z.enum(["auto", "never"]).default("auto"),
  GIT_AUTHOR_NAME: z.string().min(1).default("Coding Agent"),
  GIT_AUTHOR_EMAIL: z.string().min(1).default("agent@localhost"),
  CALLBACK_MAX_ATTEMPTS: int(5, 1),
  CALLBACK_MAX_ELAPSED: durationField("2m"),
  CALLBACK_BASE_DELAY: durationField("1s"),
  CALLBACK_MAX_DELAY: durationField("30s"),
  CALLBACK_REQUEST_TIMEOUT: durationField("10s"),
  /**
   * How long the certificate the daemon makes at first start is valid (tls.ts). The control plane
   * pins it rather than checking dates; an expired one is replaced at the next start.
   */
  TLS_CERTIFICATE_LIFETIME: durationField("3650d"),
  /** The vm-agent's own tmux socket (`tmux -L`); default `acp-<NODE_ID>`. */
  TMUX_SOCKET: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).optional(),
  /** A turn's diff against the base branch is cut (at a file boundary) past this many bytes; every file's counts stay. */
  DIFF_MAX_BYTES: z.coerce.number().int().min(1024).max(3_000_000).default(1024 * 1024),
  /** How often an agent's new output is sent to the control plane, as one batch. */
  OUTPUT_FLUSH_INTERVAL: durationField("500ms"),
  /** How long a stopped agent gets after its interrupt before it is killed. */
  STOP_GRACE: durationField("5s"),
  /**
   * How long an agent whose turn was interrupted (the control plane's interrupt: its task's spend
   * budget ran out) gets after its SIGINT to end the turn itself before it is killed.
   */
  INTERRUPT_GRACE: durationField("10s"),
  /** How often the node's health goes to the control plane (`0` sends none). */
  HEARTBEAT_INTERVAL: durationField("15s"),
  /** The least severe lines the daemon's log keeps: `debug`, `info`, `warn` or `error`. */
  VM_AGENT_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  /** The daemon's own log; unset writes it to stdout. Rotated to `<file>.1` … `<file>.<KEEP>`. */
  VM_AGENT_LOG_FILE: z.string().min(1).optional(),
  /** The size at which the log file is rotated. */
  VM_AGENT_LOG_MAX_BYTES: int(10 * 1024 * 1024, 1),
  /** How many rotated log files are kept (0: the current file only). */
  VM_AGENT_LOG_KEEP: int(3, 0),
  /**
   * Each workspace's setup script and agent as its own Unix user (users.ts). `auto`: when the
   * daemon can (it is root); `required`: refuse to start otherwise; `off`: never.
   */
  WORKSPACE_USERS: z.enum(["auto", "required", "off"]).default("auto"),
  /**
   * The first uid (and gid) given to workspace users: above the ranges useradd gives people
   * (UID_MAX in /etc/login.defs) and their containers (SUB_UID_MAX), so no other account gets one.
   */
  WORKSPACE_UID_MIN: integer(1000, 2_000_000_000).default(700_000_000),
  /**
   * Where every uid ever given to a workspace user is claimed (one file each, for the whole
   * machine, never removed): a uid is never given twice, so files a deleted user left anywhere on
   * the node never pass to another workspace.
   */
  WORKSPACE_UID_CLAIMS: z.string().min(1).default("/var/lib/agent-control-plane/workspace-uids"),
  /**
   * Each workspace's processes in their own network namespace whose only way out is the daemon's
   * egress proxy (egress/). `on`: a root daemon that cannot do it refuses workspaces, saying why;
   * `off`: workspaces use the node's network as they are (the isolation report says so).
   */
  WORKSPACE_EGRESS: z.enum(["on", "off"]).default("on"),
  /** The port the proxy listens on inside each workspace's namespace (127.0.0.1 there; HTTPS_PROXY names it). */
  EGRESS_PROXY_PORT: integer(1, 65535).default(3128),
  /** How long the proxy's refusals are gathered before they go to the control plane as one report. */
  EGRESS_REPORT_INTERVAL: durationField("1s"),
  /** How long the proxy waits for a connection to an allowed host. */
  EGRESS_CONNECT_TIMEOUT: durationField("10s"),
  /** How long a name the proxy resolved is trusted (the denied hosts are resolved for every decision). */
  EGRESS_DNS_CACHE_TTL: durationField("30s"),
});

export type VmAgentConfig = z.infer<typeof VmAgentConfigSchema>;

export function parseVmAgentConfig(env: Record<string, string | undefined>): VmAgentConfig {
  // A blank variable counts as unset, so its default applies (or it is reported missing).
  const given = givenSettings(env);
  const result = VmAgentConfigSchema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "");
      return `${name}: ${given[name] === undefined ? "is required" : issue.message}`;
    });
    throw new Error(`invalid vm-agent configuration: ${problems.join("; ")}`);
  }
  return result.data;
}

/**
 * What the daemon's children (git, tmux, the tools it runs) may see of its own environment, by
 * name: where programs and tmux's sockets are, the locale, how git reaches remotes. Never a token or
 * key: those come with the requests that need them.
 */
export const INHERITED_VARIABLES = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TMPDIR",
  "USER",
  "TMUX_TMPDIR",
  "TERM",
  "SHELL",
  "SSL_CERT_FILE",
  "NODE_EXTRA_CA_CERTS",
  "SSH_AUTH_SOCK",
  "GIT_SSH_COMMAND",
  "GIT_SSL_CAINFO",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
] as const;
export type InheritedVariable = (typeof INHERITED_VARIABLES)[number];
export type InheritedEnvironment = Readonly<Partial<Record<InheritedVariable, string>>>;

/** The inherited variables `env` sets (main.ts: the daemon's own environment). */
export function inheritedEnvironment(env: Record<string, string | undefined>): InheritedEnvironment {
  const inherited: Partial<Record<InheritedVariable, string>> = {};
  for (const name of INHERITED_VARIABLES) if (env[name] !== undefined) inherited[name] = env[name];
  return inherited;
}

/** The daemon's environment, read once: its settings and what its children inherit. */
export function readDaemonEnvironment(env: Record<string, string | undefined> = process.env) {
  return { config: parseVmAgentConfig(env), inherited: inheritedEnvironment(env) };
}
