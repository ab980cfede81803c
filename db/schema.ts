/**
 * The control plane's tables. The database is the source of truth for every status; Inngest runs
 * and the live stream are derived from it.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import {
  COST_SOURCES,
  NODE_HEALTH,
  NODE_STATUSES,
  PULL_REQUEST_STATES,
  SESSION_STATUSES,
  TASK_MESSAGE_AUTHORS,
  TASK_MESSAGE_STATUSES,
  TASK_STATUSES,
  TASK_STEP_STATUSES,
  WORKSPACE_STATUSES,
  type TaskStepStatus,
} from "./statuses";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * People. In local mode there is one (`local`); in team mode they sign in (better-auth keeps its
 * sessions, linked accounts and verifications in the `auth_*` tables) or use personal API tokens.
 */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  /** `admin` for the first person to join a team control plane, `member` for everyone after. */
  role: text("role").notNull().default("member"),
  /** The person's own spend limits per day and per month (US dollars; null: USER_DAILY_BUDGET_USD / USER_MONTHLY_BUDGET_USD; 0: none). */
  budgets: jsonb("budgets").$type<{ dailyUsd: number | null; monthlyUsd: number | null }>(),
  /** The person's network settings for their tasks' workspaces (lib/egress/settings.ts); null: the configured defaults. */
  networkSettings: jsonb("network_settings").$type<{ defaultPolicy: "none" | "allow-list" | "full"; allowHosts: string[]; allowPrivate: string[] }>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Personal API tokens: only a SHA-256 of each is kept (they are long and random, so a fast hash is enough). */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    /** The token's first characters, so a person can tell their tokens apart. */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    lastUsedAt: ts("last_used_at"),
    revokedAt: ts("revoked_at"),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

/**
 * People's secrets (model keys, a GitHub token), envelope-encrypted (lib/envelope.ts): the
 * value under its own data key, the data key wrapped by the configured key `key_id`.
 */
export const userSecrets = pgTable(
  "user_secrets",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    keyId: text("key_id").notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("user_secrets_user_name_idx").on(t.userId, t.name)],
);

/** better-auth's sessions (browser sign-in). */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    token: text("token").notNull().unique(),
    expiresAt: ts("expires_at").notNull(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

/** better-auth's linked accounts (GitHub); its OAuth tokens are stored encrypted by better-auth. */
export const authAccounts = pgTable(
  "auth_accounts",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: ts("access_token_expires_at"),
    refreshTokenExpiresAt: ts("refresh_token_expires_at"),
    scope: text("scope"),
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("auth_accounts_provider_account_idx").on(t.providerId, t.accountId), index("auth_accounts_user_idx").on(t.userId)],
);

/** better-auth's short-lived values (OAuth state). */
export const authVerifications = pgTable("auth_verifications", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: ts("expires_at").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    repository: text("repository").notNull(),
    prompt: text("prompt").notNull(),
    agent: text("agent").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    executionStep: text("execution_step"),
    branch: text("branch").notNull(),
    /** The model its agent's CLI uses: as asked, else the agent's default from configuration; null: the CLI's own. */
    model: text("model"),
    /** The repository's branch the task's branch starts from: as asked, else the default branch once the node said. */
    baseBranch: text("base_branch"),
    commitSha: text("commit_sha"),
    pushed: boolean("pushed").notNull().default(false),
    /** Why the last turn's push was refused (its commit is only on the node); null when it pushed. */
    pushError: text("push_error"),
    errorMessage: text("error_message"),
    nodeId: text("node_id"),
    workspaceId: text("workspace_id"),
    /** Part of the run's idempotency key: bumped when a task is re-driven, so the new run is not swallowed. */
    runGeneration: integer("run_generation").notNull().default(0),
    /** The engine's id of the current generation's run, recorded by the run's first step. */
    runId: text("run_id"),
    /** The engine's id of the current generation's trigger event, once it accepted it. */
    runEventId: text("run_event_id"),
    /** When the current generation's trigger event was committed to be sent. */
    runDispatchedAt: ts("run_dispatched_at"),
    /** When the run last saw its agent's session ended (lib/runs/stalled.ts tells a stalled run by it). */
    runSawAgentEndAt: ts("run_saw_agent_end_at"),
    /** When the run promised to look at the database again (its wait's slice, its retry's sleep); null while it is not waiting. */
    runNextCheckBy: ts("run_next_check_by"),
    /** When a freed slot last woke the task in the queue; cleared when its selection looks again (lib/nodes/pool.ts). */
    queueWokenAt: ts("queue_woken_at"),
    /**
     * The wake events sent to the run since it last looked, by name, with when each was sent
     * (lib/tasks/wake-run.ts coalesces per task and event on it); emptied by the run's every look.
     */
    wakesSent: jsonb("wakes_sent").$type<Record<string, string>>().notNull().default({}),
    /** How many times the reconciler or the stuck-task net started a new run for this task. */
    redriveCount: integer("redrive_count").notNull().default(0),
    /** Cleanup of the task's workspace and node slot: set when done, so the safety net retries the rest. */
    cleanedUpAt: ts("cleaned_up_at"),
    /** While the run waits for a follow-up: when it stops waiting and completes the task (SESSION_IDLE_TIMEOUT). */
    idleUntil: ts("idle_until"),
    /** The person asked to finish now instead of waiting for a follow-up. */
    finishRequestedAt: ts("finish_requested_at"),
    /**
     * Best of N: the candidates of one submission share `groupId` (the first candidate's id; a task
     * submitted alone has none) and each has its number (1..N). They run side by side on their own
     * branches from the same base; the person picks one, which alone gets the pull request.
     */
    groupId: text("group_id"),
    candidate: integer("candidate"),
    /** On the group's first candidate: the candidate the person picked, and when; null until then. */
    pickedTaskId: text("picked_task_id"),
    pickedAt: ts("picked_at"),
    /** What became of the other candidates' branches at the pick: deleted or kept. */
    otherBranches: text("other_branches", { enum: ["deleted", "kept"] }),
    /** What the task may spend on its agent, in US dollars (TASK_BUDGET_USD unless set at submit or raised); null: no limit. */
    budgetUsd: doublePrecision("budget_usd"),
    /** While a budget (the task's, or its owner's day or month) holds it: since when, and which one in words. */
    budgetPausedAt: ts("budget_paused_at"),
    budgetReason: text("budget_reason"),
    /** The turn the budget interrupted mid-way, so raising the budget resumes it; null when it paused between turns. */
    budgetInterruptedTurn: integer("budget_interrupted_turn"),
    /** A lease, so one task's cleanup never runs twice at once. */
    cleanupLeaseUntil: ts("cleanup_lease_until"),
    /** The bytes of agent output stored for the task (agent_output.bytes summed), held under TASK_OUTPUT_MAX_BYTES. */
    outputBytes: bigint("output_bytes", { mode: "number" }).notNull().default(0),
    /** The oldest output removed to stay under TASK_OUTPUT_MAX_BYTES: how many lines, and their bytes. */
    outputDroppedLines: bigint("output_dropped_lines", { mode: "number" }).notNull().default(0),
    outputDroppedBytes: bigint("output_dropped_bytes", { mode: "number" }).notNull().default(0),
    /** The workspace's way out, fixed at submit (lib/egress/settings.ts): policy, allowed hosts and private ranges; null for tasks from before it. */
    egress: jsonb("egress").$type<{ policy: "none" | "allow-list" | "full"; allowHosts: string[]; allowPrivate: string[] }>(),
    /** The checks its submit gave, run after each turn in place of the repository's; null: the repository's own. */
    checks: jsonb("checks").$type<string[]>(),
    startedAt: ts("started_at"),
    completedAt: ts("completed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("tasks_user_created_idx").on(t.userId, t.createdAt),
    index("tasks_status_idx").on(t.status),
    index("tasks_node_idx").on(t.nodeId),
    index("tasks_group_idx").on(t.groupId),
  ],
);

export const taskStatusEvents = pgTable(
  "task_status_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    fromStatus: text("from_status", { enum: TASK_STATUSES }),
    toStatus: text("to_status", { enum: TASK_STATUSES }).notNull(),
    actor: text("actor").notNull(),
    reason: text("reason"),
    createdAt: createdAt(),
  },
  (t) => [index("task_status_events_task_idx").on(t.taskId, t.id)],
);

/** One row per pipeline step a task entered: its timeline. */
/**
 * A task's earlier attempts, kept when it is retried: what each run ended as (its status, error,
 * commit), its timeline and its agent session (whose output stays in agent_output).
 */
export const taskAttempts = pgTable(
  "task_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    /** The run generation the attempt was (the next attempt runs a later one). */
    generation: integer("generation").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    errorMessage: text("error_message"),
    commitSha: text("commit_sha"),
    pushed: boolean("pushed").notNull().default(false),
    steps: jsonb("steps").$type<{ step: string; status: TaskStepStatus; detail: string | null; startedAt: string; endedAt: string | null }[]>().notNull(),
    sessionId: text("session_id"),
    startedAt: ts("started_at"),
    endedAt: ts("ended_at"),
    createdAt: createdAt(),
  },
  (t) => [index("task_attempts_task_idx").on(t.taskId, t.id)],
);

/**
 * What the person says to a task's agent after the first prompt, in order. `queued` until a turn
 * delivers it (several queued ones go together as one follow-up prompt), then `delivered` with the
 * turn. `clientId` makes a resend (a double click, a retried request) the same message.
 */
export const taskMessages = pgTable(
  "task_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    clientId: text("client_id").notNull(),
    body: text("body").notNull(),
    author: text("author", { enum: TASK_MESSAGE_AUTHORS }).notNull().default("person"),
    status: text("status", { enum: TASK_MESSAGE_STATUSES }).notNull().default("queued"),
    /** The agent turn that received it (the first prompt is turn 1). */
    turn: integer("turn"),
    deliveredAt: ts("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("task_messages_client_idx").on(t.taskId, t.clientId), index("task_messages_task_idx").on(t.taskId, t.id)],
);

/**
 * A workspace's boot log as its node reported it: provisioning stages as they start and end, and
 * the setup script's output lines. One row per report (`messageId` makes a resent one a no-op);
 * `at` is the node's clock, which orders them.
 */
export const bootLog = pgTable(
  "boot_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    messageId: text("message_id").notNull().unique(),
    workspaceId: text("workspace_id").notNull(),
    taskId: text("task_id").notNull(),
    at: bigint("at", { mode: "number" }).notNull(),
    stages: jsonb("stages").notNull(),
    lines: jsonb("lines").notNull(),
    /** The report's setup lines' size as stored (octet_length of their JSON text), for the byte cap on reads. */
    bytes: integer("bytes").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("boot_log_workspace_idx").on(t.workspaceId, t.at)],
);

/**
 * Each agent turn as it ended: its commit, whether it was pushed, and the branch's diff against its
 * base after it (the vm-agent's TurnDiff), kept after the workspace is gone so the review is never lost.
 */
export const taskTurns = pgTable(
  "task_turns",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    sessionId: text("session_id").notNull(),
    turn: integer("turn").notNull(),
    commitSha: text("commit_sha"),
    pushed: boolean("pushed").notNull().default(false),
    error: text("error"),
    diff: jsonb("diff"),
    /** What the turn used, as the agent CLI reported it; null when it reported nothing (the script agent, a crash). */
    inputTokens: bigint("input_tokens", { mode: "number" }),
    outputTokens: bigint("output_tokens", { mode: "number" }),
    cacheReadTokens: bigint("cache_read_tokens", { mode: "number" }),
    cacheWriteTokens: bigint("cache_write_tokens", { mode: "number" }),
    /** Its price in US dollars, fixed when the turn was recorded; null when neither the CLI nor the price table knew it. */
    costUsd: doublePrecision("cost_usd"),
    costSource: text("cost_source", { enum: COST_SOURCES }),
    /** The CLI's own cost figure as reported, which for some CLIs is the conversation's running total (the turn's cost is then its difference). */
    reportedCostUsd: doublePrecision("reported_cost_usd"),
    /** The repository's checks after the turn's commit (lib/contracts/checks.ts TurnChecks); null when none ran. */
    checks: jsonb("checks"),
    /** Its pull request's CI on the commit it pushed, as last looked at (lib/contracts/ci.ts TurnCi); null when not watched. */
    ci: jsonb("ci"),
    /** The agent's own closing words for the turn (its final message in its stream); null when it gave none. */
    summary: text("summary"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("task_turns_session_turn_idx").on(t.sessionId, t.turn), index("task_turns_task_idx").on(t.taskId, t.id)],
);

/**
 * A task's one pull request on its forge (GitHub), for its whole life: opened as a draft by the
 * first turn that pushed, updated by later ones. `number` is null while none is open; `error` says
 * why (no token, refused) and is cleared by the next success.
 */
export const pullRequests = pgTable("pull_requests", {
  taskId: text("task_id")
    .primaryKey()
    .references(() => tasks.id),
  forge: text("forge").notNull(),
  /** `owner/name` on the forge. */
  repository: text("repository").notNull(),
  number: integer("number"),
  url: text("url"),
  /** draft, open, merged or closed: as the forge said last. */
  state: text("state", { enum: PULL_REQUEST_STATES }),
  /** The commit the pull request's branch was at when it was last synced. */
  headCommit: text("head_commit"),
  error: text("error"),
  /** Failures in a row that are worth trying again (5xx, no answer, rate limit); reset by a success. */
  retries: integer("retries").notNull().default(0),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const taskSteps = pgTable(
  "task_steps",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    step: text("step").notNull(),
    status: text("status", { enum: TASK_STEP_STATUSES }).notNull(),
    detail: text("detail"),
    startedAt: ts("started_at").notNull().defaultNow(),
    endedAt: ts("ended_at"),
  },
  (t) => [uniqueIndex("task_steps_task_step_idx").on(t.taskId, t.step)],
);

export const nodes = pgTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    provider: text("provider").notNull(),
    providerServerId: text("provider_server_id"),
    status: text("status", { enum: NODE_STATUSES }).notNull(),
    health: text("health", { enum: NODE_HEALTH }).notNull().default("unknown"),
    endpoint: text("endpoint"),
    /**
     * The SHA-256 fingerprint of the TLS certificate the node's daemon serves, from its authenticated
     * ready callback; every call to the node refuses any other certificate (lib/nodes/pinned-tls.ts).
     * Null until the daemon has reported: such a node is not called.
     */
    certificateFingerprint: text("certificate_fingerprint"),
    autoProvisioned: boolean("auto_provisioned").notNull().default(true),
    warmSince: ts("warm_since"),
    lastHeartbeatAt: ts("last_heartbeat_at"),
    cpuPercent: real("cpu_percent"),
    memoryPercent: real("memory_percent"),
    diskPercent: real("disk_percent"),
    /** When the control plane last probed the node (GET /health) or saw its process. */
    healthCheckedAt: ts("health_checked_at"),
    /** Times the provider restarted the node's daemon (a local node's vm-agent), and when last. */
    /** Whoever calls the provider to create the machine holds this, so two tasks never create it twice. */
    provisionLeaseUntil: ts("provision_lease_until"),
    restartCount: integer("restart_count").notNull().default(0),
    lastRestartAt: ts("last_restart_at"),
    /** When a stopped node's folder (a local node's work tree and logs) was removed. */
    purgedAt: ts("purged_at"),
    /**
     * How the node keeps workspaces apart, as its daemon said at ready: `users` (each workspace's
     * setup and agent run as their own Unix user) or `none` (they share the daemon's user; an older
     * daemon that does not say counts as `none`). Null until the daemon has said. Team mode places
     * work only on `users` nodes (lib/nodes/isolation.ts).
     */
    isolation: text("isolation"),
    /** Why a `none` node cannot (e.g. its daemon is not root), in its daemon's words. */
    isolationReason: text("isolation_reason"),
    /** How the node holds workspaces to their egress policy, as its daemon said at ready: `namespaces` or `none` (contracts/egress.ts); null until it said. */
    egress: text("egress"),
    /** Why a `none` node cannot, in its daemon's words. */
    egressReason: text("egress_reason"),
    /**
     * When the node's installer exchanged an enrollment token (node_enrollments) for its callback
     * token: from then on every enrollment token of the node is spent. Null for a node not enrolled
     * yet, and for one whose daemon was handed its callback token directly (local, machine).
     */
    enrolledAt: ts("enrolled_at"),
    errorMessage: text("error_message"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("nodes_user_status_idx").on(t.userId, t.status)],
);

/**
 * One-time enrollment tokens of nodes whose machine boots from user data that any process on it can
 * read for as long as it runs (a cloud's metadata service): the user data carries one of these, never
 * the node's callback token, and the installer exchanges it once for that token
 * (lib/nodes/enrollment.ts). Only the token's SHA-256 is kept. A node may have several (a provisioning
 * step that ran again minted another, while the machine the first call created boots with the first);
 * the node's first enrollment (`nodes.enrolled_at`) spends them all.
 */
export const nodeEnrollments = pgTable(
  "node_enrollments",
  {
    tokenHash: text("token_hash").primaryKey(),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("node_enrollments_node_idx").on(t.nodeId)],
);

/**
 * One-time registration tokens for machines people own (lib/machines/registrations.ts): only the
 * token's SHA-256 is kept. Used once: the registration that consumes it creates the node `node_id`
 * and records where the node must serve (`address`, `agent_port`), which the `machine` provider
 * holds its ready report to.
 */
export const machineRegistrations = pgTable(
  "machine_registrations",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
    usedAt: ts("used_at"),
    nodeId: text("node_id").references(() => nodes.id),
    /** The host the machine's daemon serves on: the one it advertised, else the address its registration came from. */
    address: text("address"),
    agentPort: integer("agent_port"),
  },
  (t) => [index("machine_registrations_user_idx").on(t.userId), uniqueIndex("machine_registrations_node_idx").on(t.nodeId)],
);

export const workspaces = pgTable(
  "workspaces",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    nodeId: text("node_id")
      .notNull()
      .references(() => nodes.id),
    status: text("status", { enum: WORKSPACE_STATUSES }).notNull(),
    branch: text("branch").notNull(),
    baseCommit: text("base_commit"),
    errorMessage: text("error_message"),
    readyAt: ts("ready_at"),
    /** When its worktree was deleted from the node (at once for pushed work, else after WORKSPACE_RETENTION). */
    purgedAt: ts("purged_at"),
    /**
     * Kept for the person's decision: its task ended with work whose push was refused. Until they
     * push it again or discard it, no retention deletes it and its node is not destroyed.
     */
    heldAt: ts("held_at"),
    /** When it stopped or errored: its node time is createdAt to this (to now while it lives). */
    endedAt: ts("ended_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("workspaces_task_idx").on(t.taskId), index("workspaces_node_status_idx").on(t.nodeId, t.status)],
);

export const agentSessions = pgTable(
  "agent_sessions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    agent: text("agent").notNull(),
    /** The agent turn the session is on: the prompt is 1, each delivered follow-up the next. */
    turn: integer("turn").notNull().default(1),
    status: text("status", { enum: SESSION_STATUSES }).notNull(),
    exitCode: integer("exit_code"),
    commitSha: text("commit_sha"),
    errorMessage: text("error_message"),
    startedAt: ts("started_at"),
    endedAt: ts("ended_at"),
    createdAt: createdAt(),
  },
  (t) => [index("agent_sessions_workspace_idx").on(t.workspaceId)],
);

/** Agent output as the node shipped it: one row per batch of log lines, ordered by byte offset. */
export const agentOutput = pgTable(
  "agent_output",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sessionId: text("session_id").notNull(),
    taskId: text("task_id").notNull(),
    turn: integer("turn").notNull(),
    offset: bigint("offset", { mode: "number" }).notNull(),
    lines: jsonb("lines").$type<string[]>().notNull(),
    /** The batch's size as stored (octet_length of its lines' JSON text), for the byte caps and the task's quota. */
    bytes: integer("bytes").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("agent_output_session_offset_idx").on(t.sessionId, t.offset), index("agent_output_task_idx").on(t.taskId, t.id)],
);

/**
 * What a running turn has spent so far, message by message, as its agent's stream reported each
 * model response (Claude Code's `assistant` events carry their usage): a message seen in several
 * batches is counted once, at its highest figure. Budgets are held to it mid-turn; the turn's own
 * total (task_turns) replaces it once the turn ends.
 */
export const turnSpend = pgTable(
  "turn_spend",
  {
    sessionId: text("session_id").notNull(),
    taskId: text("task_id").notNull(),
    userId: text("user_id").notNull(),
    turn: integer("turn").notNull(),
    messageId: text("message_id").notNull(),
    inputTokens: bigint("input_tokens", { mode: "number" }).notNull(),
    outputTokens: bigint("output_tokens", { mode: "number" }).notNull(),
    cacheReadTokens: bigint("cache_read_tokens", { mode: "number" }).notNull(),
    cacheWriteTokens: bigint("cache_write_tokens", { mode: "number" }).notNull(),
    costUsd: doublePrecision("cost_usd").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.turn, t.messageId] }), index("turn_spend_user_idx").on(t.userId, t.createdAt)],
);

/** Permanent failures, with what they touched, for operators and the UI. */
export const errors = pgTable(
  "errors",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** failure (permanent), recovery (a run re-driven), stuck, orphan, cleanup (a cleanup that failed and is retried). */
    kind: text("kind").notNull().default("failure"),
    taskId: text("task_id"),
    nodeId: text("node_id"),
    workspaceId: text("workspace_id"),
    step: text("step"),
    message: text("message").notNull(),
    details: jsonb("details"),
    createdAt: createdAt(),
  },
  (t) => [index("errors_task_idx").on(t.taskId), index("errors_created_idx").on(t.createdAt)],
);

/**
 * What each person did that a per-minute limit counts, one row per act: `submission` (a task
 * submitted or retried), `followup` (a message to a task's agent). Read and written under the
 * person's advisory lock (lib/tasks/user-limits.ts), so concurrent requests never pass a limit.
 */
export const userActions = pgTable(
  "user_actions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("user_id").notNull(),
    kind: text("kind").notNull(),
    taskId: text("task_id"),
    createdAt: createdAt(),
  },
  (t) => [index("user_actions_user_kind_created_idx").on(t.userId, t.kind, t.createdAt)],
);

/**
 * Team mode: who an admin let in by email (Settings, POST /api/invitations or `npm run admin --
 * invite`). The person may sign in with GitHub under a verified address of theirs; removing the
 * invitation closes the door again (an admin stays an admin).
 */
export const invitations = pgTable("invitations", {
  email: text("email").primaryKey(),
  invitedBy: text("invited_by"),
  createdAt: createdAt(),
  acceptedAt: ts("accepted_at"),
});

/** Callback deliveries already applied, so a retried callback is a no-op. */
export const callbackReceipts = pgTable("callback_receipts", {
  messageId: text("message_id").primaryKey(),
  kind: text("kind").notNull(),
  receivedAt: createdAt(),
});

/** The live stream's log: each row is one visible change; its id is the SSE event id. */
export const liveEvents = pgTable(
  "live_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    taskId: text("task_id").notNull(),
    kind: text("kind").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("live_events_task_idx").on(t.taskId, t.id)],
);

/** The control plane's token signing keys (ES256 JWKs). The newest is used; older ones still verify. */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  privateJwk: jsonb("private_jwk").notNull(),
  publicJwk: jsonb("public_jwk").notNull(),
  createdAt: createdAt(),
});

export const now = sql`now()`;

/** Connections a workspace's egress proxy refused, counted per host, port and reason (lib/egress/refusals.ts). */
export const egressRefusals = pgTable(
  "egress_refusals",
  {
    workspaceId: text("workspace_id").notNull(),
    taskId: text("task_id").notNull(),
    host: text("host").notNull(),
    port: integer("port").notNull(),
    reason: text("reason").notNull(),
    count: bigint("count", { mode: "number" }).notNull(),
    firstAt: ts("first_at").notNull(),
    lastAt: ts("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.host, t.port, t.reason] }), index("egress_refusals_task_idx").on(t.taskId)],
);
