/** The durable records of workspaces and agent sessions (one JSON file each, see records.ts). */
import { z } from "zod";
import { EgressPolicy } from "../../lib/contracts/egress";
import { AgentKind, Attribution } from "../../lib/contracts/vm-agent";
import { TurnUsage } from "../../lib/contracts/usage";
import { CheckCommands, TurnChecks } from "../../lib/contracts/checks";

/** What a workspace's record keeps of its egress (egress/network.ts): its rules and, when enforced, its namespace. */
export const WorkspaceEgressRecord = z.object({
  policy: EgressPolicy,
  allowHosts: z.array(z.string()).default([]),
  allowPrivate: z.array(z.string()).default([]),
  denyHosts: z.array(z.string()).default([]),
  /** `host:port` of the model API of each agent kind started in the workspace (allowed from then on). */
  modelHosts: z.array(z.string()).default([]),
  /** The workspace's network namespace (its user's name); absent: it runs on the node's network. */
  namespace: z.string().optional(),
});
export type WorkspaceEgressRecord = z.infer<typeof WorkspaceEgressRecord>;

export const WorkspaceRecord = z.object({
  id: z.string(),
  taskId: z.string(),
  repository: z.string(),
  branch: z.string(),
  baseBranch: z.string().optional(),
  callbackToken: z.string(),
  gitIdentity: z.object({ name: z.string(), email: z.string() }).optional(),
  attribution: Attribution.optional(),
  status: z.enum(["creating", "running", "error", "stopped", "deleting", "deletion_failed"]),
  baseCommit: z.string().optional(),
  error: z.string().optional(),
  /** The workspace's own Unix user (users.ts), once provisioning made it; absent without isolation. */
  user: z.object({ name: z.string(), uid: z.number().int(), gid: z.number().int() }).optional(),
  /** Its egress rules (absent: a workspace from before egress, on the node's network). */
  egress: WorkspaceEgressRecord.optional(),
});
export type WorkspaceRecord = z.infer<typeof WorkspaceRecord>;

export const SessionRecord = z.object({
  sessionId: z.string(),
  workspaceId: z.string(),
  agent: AgentKind,
  /** The model the session's turns use (its follow-ups keep it). */
  model: z.string().optional(),
  callbackToken: z.string(),
  status: z.enum(["running", "completing", "completed", "stopped"]),
  promptFirstLine: z.string(),
  exitCode: z.number().int().nullable().optional(),
  commit: z.string().nullable().optional(),
  pushed: z.boolean().optional(),
  /** The turn's commit was made but its push was refused. */
  pushFailed: z.boolean().optional(),
  error: z.string().optional(),
  generation: z.number().int().optional(),
  /** Each prompt (the first and every follow-up) is one turn; a turn reports once. */
  turn: z.number().int().default(1),
  /** The agent CLI's own conversation id, so a follow-up resumes the same conversation. */
  conversationId: z.string().optional(),
  /** Where the current turn's output starts in the session's log (the log holds every turn's). */
  turnLogStart: z.number().int().default(0),
  /** What the turn used, from the CLI's stream, read when the turn completed. */
  usage: TurnUsage.optional(),
  /** The agent's closing summary of the turn, from its stream, redacted and clipped when the turn completed. */
  summary: z.string().optional(),
  /** The task's own checks (its start request's), run after each turn; unset: the repository's. */
  checks: CheckCommands.optional(),
  /** The turn's checks as they ran after its commit. */
  checkResult: TurnChecks.optional(),
  /**
   * The control plane interrupted the current turn (its task's spend budget ran out), recorded
   * before its agent is signalled: the turn ends as interrupted, also through a restart.
   */
  interrupt: z.object({ reason: z.string() }).optional(),
  /** How much of the session's log has been handed to the outbox as output. */
  outputOffset: z.number().int().default(0),
  /** Where the newest of those batches starts: a restart sends that batch again, byte for byte. */
  lastOutputOffset: z.number().int().optional(),
  /** The `Idempotency-Key` of the start request, so a repeat of it starts nothing new. */
  idempotencyKey: z.string().optional(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;
