/** The public HTTP API of the control plane, shared by route handlers, the UI and the tests. */
import { z } from "zod";
import { userText } from "./text";
import { DEFAULT_AGENT, MODEL_KEY_LABELS } from "./agents";
import { AgentKind, BootStage, BranchName, ModelName, SecretName } from "./vm-agent";
import { EgressHost, EgressPolicy, EgressPrivateRange, EgressRefusalReason } from "./egress";
import { TurnUsage, UsageTotals } from "./usage";
import { CheckCommands, TurnChecks } from "./checks";
import { TurnCi } from "./ci";
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
} from "./statuses";

export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const NodeStatus = z.enum(NODE_STATUSES);
export type NodeStatus = z.infer<typeof NodeStatus>;
export const NodeHealth = z.enum(NODE_HEALTH);
export type NodeHealth = z.infer<typeof NodeHealth>;

/** Pipeline steps in the order they run; a task's executionStep only moves forward through this list. */
export const EXECUTION_STEPS = [
  "node_selection",
  "node_provisioning",
  "node_agent_ready",
  "workspace_creation",
  "workspace_ready",
  "agent_session",
  "running",
  "awaiting_ci",
  "awaiting_followup",
  "cleanup",
] as const;
export const ExecutionStep = z.enum(EXECUTION_STEPS);
export type ExecutionStep = z.infer<typeof ExecutionStep>;

export const STEP_LABELS: Record<ExecutionStep, string> = {
  node_selection: "Select a node",
  node_provisioning: "Provision a node",
  node_agent_ready: "Node agent ready",
  workspace_creation: "Create workspace",
  workspace_ready: "Workspace ready",
  agent_session: "Start agent",
  running: "Agent working",
  awaiting_ci: "Pull request CI",
  awaiting_followup: "Awaiting follow-up",
  cleanup: "Clean up",
};

/** A repository: an absolute local path on the node, or a git URL (https, ssh, git, file). */
export const Repository = userText()
  .trim()
  .min(1, "is required")
  .max(2048)
  .refine(
    (value) =>
      value.startsWith("/") ||
      /^(https?|ssh|git|file):\/\/[^\s]+$/.test(value) ||
      /^[\w.-]+@[\w.-]+:[\w./~-]+$/.test(value),
    "must be an absolute local path or a git URL (https://, ssh://, git://, file:// or user@host:path)",
  )
  // A password in the URL would travel to the node and stand in git's argument list and the clone's
  // config, readable there: tokens go through secrets (GITHUB_TOKEN) and the node's credential helper.
  .refine((value) => !/^[a-z]+:\/\/[^/@\s]*:[^/@\s]*@/i.test(value), "must not carry a password or token: store it as a secret (GITHUB_TOKEN) instead");

/** An amount of US dollars a budget allows (cents at most); 0 is no limit. */
export const BudgetUsd = z
  .number({ error: "must be an amount of US dollars, such as 2.5" })
  .nonnegative("must not be negative")
  .max(100_000, "must be at most 100000")
  .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, "must be in whole cents");

export const CreateTaskRequest = z.object({
  repository: Repository,
  prompt: userText().trim().min(1, "is required").max(20_000),
  agent: AgentKind.default(DEFAULT_AGENT),
  /** The model for the agent's CLI; unset or empty: the agent's default (CLAUDE_CODE_MODEL, CODEX_MODEL). */
  model: z.preprocess((value) => (value === "" ? undefined : value), ModelName.optional()),
  /** One of the repository's branches; unset or empty: its default branch. */
  baseBranch: z.preprocess((value) => (value === "" ? undefined : value), BranchName.optional()),
  /** Where its workspace may connect (contracts/egress.ts); unset or empty: the person's default policy (settings). */
  egress: z.preprocess((value) => (value === "" ? undefined : value), EgressPolicy.optional()),
  /** Shell commands run after each turn in place of the repository's own checks (`.agent/checks.sh`, package.json's test script). */
  checks: CheckCommands.optional(),
  /** What the task may spend on its agent, in US dollars; unset: TASK_BUDGET_USD; 0: no limit. */
  budgetUsd: BudgetUsd.optional(),
  /** Best of N: this many agents (1-4) work on it side by side, each on its own branch; the person picks one for the pull request. */
  attempts: z.number({ error: "must be a whole number from 1 to 4" }).int("must be a whole number from 1 to 4").min(1, "must be at least 1").max(4, "must be at most 4").default(1),
});
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;

export const CreateTaskResponse = z.object({
  taskId: z.string(),
  branch: z.string(),
  status: z.literal("queued"),
  /** Best of N: every candidate's task and branch (the first is `taskId`); absent for one attempt. */
  candidates: z.array(z.object({ taskId: z.string(), branch: z.string() })).optional(),
});
export type CreateTaskResponse = z.infer<typeof CreateTaskResponse>;

export const CancelTaskResponse = z.object({ taskId: z.string(), status: z.literal("cancelled") });
export type CancelTaskResponse = z.infer<typeof CancelTaskResponse>;

export const TaskStepView = z.object({
  step: ExecutionStep,
  label: z.string(),
  status: z.enum(TASK_STEP_STATUSES),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  detail: z.string().nullable(),
});
export type TaskStepView = z.infer<typeof TaskStepView>;

/**
 * The task's checks as of its newest turn: what ran and how it went, which round of fixing it is
 * (a round is a turn whose checks ran; a failing one gets a system follow-up, up to
 * MAX_CHECK_ROUNDS), and the outcome in words ("checks passed (round 2)").
 */
export const TaskChecksView = z.object({
  turn: z.number().int(),
  round: z.number().int(),
  maxRounds: z.number().int(),
  /** `passed`; `fixing`: failed, the agent was asked to fix them; `failing`: failed after the last round, waiting for the person; `none`: nothing declared. */
  state: z.enum(["passed", "fixing", "failing", "none"]),
  summary: z.string(),
  result: TurnChecks,
});
export type TaskChecksView = z.infer<typeof TaskChecksView>;

/**
 * The task's pull request CI as of the newest turn it was watched for: its checks, the round of
 * fixing (a failing one gets a system follow-up, up to MAX_CI_ROUNDS), and the outcome in words.
 */
export const TaskCiView = z.object({
  turn: z.number().int(),
  round: z.number().int(),
  maxRounds: z.number().int(),
  /** `pending`: checks still run; `fixing`: failed, the agent was asked to fix it; `failing`: failed after the last round (or with none left); `passed`; `none`: no CI on the commit (or it could not be read); `unwatched`: still running when the run stopped looking. */
  state: z.enum(["pending", "passed", "fixing", "failing", "none", "unwatched"]),
  summary: z.string(),
  result: TurnCi,
});
export type TaskCiView = z.infer<typeof TaskCiView>;

/** `PUT /api/tasks/{id}/budget`: the task's new budget; raising it past what was spent releases a task its own budget held. */
export const SetTaskBudgetRequest = z.object({ budgetUsd: BudgetUsd });
export type SetTaskBudgetRequest = z.infer<typeof SetTaskBudgetRequest>;

/** A person's own limits (`PUT /api/settings/budgets`): null is the configured default, 0 no limit. */
export const PersonBudgets = z.object({ dailyUsd: BudgetUsd.nullable(), monthlyUsd: BudgetUsd.nullable() });
export type PersonBudgets = z.infer<typeof PersonBudgets>;

/** A person's limits as they apply now (their own or the configured ones; 0: none) and what they spent today and this month (UTC). */
export const PersonBudgetsView = z.object({
  own: PersonBudgets,
  dailyUsd: z.number(),
  monthlyUsd: z.number(),
  spentTodayUsd: z.number(),
  spentThisMonthUsd: z.number(),
});
export type PersonBudgetsView = z.infer<typeof PersonBudgetsView>;

/** The task's budget and spend (running turns included, as their responses streamed), and the budget that holds it, if one does. */
export const TaskBudgetView = z.object({
  /** Null: no limit of its own. */
  limitUsd: z.number().nullable(),
  spentUsd: z.number(),
  /** Held by a budget: no turn, check round or CI round starts until it is raised (or the task finished). */
  paused: z.object({ since: z.string(), reason: z.string(), kind: z.enum(["task", "day", "month"]).nullable(), interruptedTurn: z.number().int().nullable() }).nullable(),
});
export type TaskBudgetView = z.infer<typeof TaskBudgetView>;

/**
 * Best of N: one candidate as the comparison shows it, with the evidence it is ranked by: its
 * checks (passed first), its pull request CI (after the pick only: candidates open none), the size
 * of its diff (smaller first), then its cost (lower first).
 */
export const CandidateView = z.object({
  taskId: z.string(),
  candidate: z.number().int(),
  rank: z.number().int(),
  status: TaskStatus,
  executionStep: ExecutionStep.nullable(),
  branch: z.string(),
  commit: z.string().nullable(),
  checks: z.object({ state: TaskChecksView.shape.state, summary: z.string() }).nullable(),
  ci: z.object({ state: TaskCiView.shape.state, summary: z.string() }).nullable(),
  diff: z.object({ files: z.number().int(), added: z.number().int(), removed: z.number().int() }).nullable(),
  costUsd: z.number().nullable(),
  summary: z.string().nullable(),
  error: z.string().nullable(),
  picked: z.boolean(),
});
export type CandidateView = z.infer<typeof CandidateView>;

export const TaskGroupView = z.object({
  /** The group's id (its first candidate's task id). */
  id: z.string(),
  size: z.number().int(),
  /** Ranked: the best by the evidence first. */
  candidates: z.array(CandidateView),
  pickedTaskId: z.string().nullable(),
  pickedAt: z.string().nullable(),
  /** What became of the others' branches when one was picked. */
  otherBranches: z.enum(["deleted", "kept"]).nullable(),
});
export type TaskGroupView = z.infer<typeof TaskGroupView>;

/** `POST /api/tasks/{id}/pick`: the candidate that gets the task's pull request; the others' branches are deleted or kept. */
export const PickCandidateRequest = z.object({ taskId: z.string().min(1, "is required"), otherBranches: z.enum(["delete", "keep"]).default("keep") });
export type PickCandidateRequest = z.input<typeof PickCandidateRequest>;

/** A task's cost and tokens in a list; `unpricedTurns`: turns of a model without a price (their cost is missing from `costUsd`). */
export const TaskUsageSummary = z.object({ costUsd: z.number(), tokens: z.number(), unpricedTurns: z.number().int() });
export type TaskUsageSummary = z.infer<typeof TaskUsageSummary>;

/** What each of a task's turns used (as its agent CLI reported it) and cost, its totals, and how long it held a node. */
export const TaskUsageView = z.object({
  turns: z.array(
    TurnUsage.extend({
      /** The attempt (a retry starts a new one) and the turn within it. */
      attempt: z.number().int(),
      turn: z.number().int(),
      /** Null: the model has no price (MODEL_PRICES). */
      costUsd: z.number().nullable(),
      costSource: z.enum(COST_SOURCES).nullable(),
      endedAt: z.string(),
      /** The agent's closing summary of the turn, from its stream; null (or absent) when it gave none. */
      summary: z.string().nullable().optional(),
    }),
  ),
  total: UsageTotals,
  /** Milliseconds its workspaces have held a node, from each one's creation to its end. */
  nodeMs: z.number().int(),
  /** A workspace of it is still on its node (nodeMs grows). */
  onNode: z.boolean(),
});
export type TaskUsageView = z.infer<typeof TaskUsageView>;

/** `GET /api/usage`: one person's figures on one UTC day. */
export const UsageDay = UsageTotals.extend({ day: z.string(), userId: z.string(), tasks: z.number().int(), nodeMs: z.number().int() });
export type UsageDay = z.infer<typeof UsageDay>;
export const UsageReport = z.object({
  /** The first and last UTC day covered (`YYYY-MM-DD`). */
  from: z.string(),
  to: z.string(),
  /** Only days with usage, by day then person. */
  days: z.array(UsageDay),
  people: z.array(z.object({ id: z.string(), name: z.string(), email: z.string() })),
  total: UsageTotals.extend({ nodeMs: z.number().int() }),
});
export type UsageReport = z.infer<typeof UsageReport>;
/** `GET /api/usage?days=30`: how many UTC days up to today; `scope=team` (admins): every person's, not only the caller's. */
export const UsageQuery = z.object({
  days: z.coerce.number({ error: "must be a whole number of days from 1 to 366" }).int({ error: "must be a whole number of days from 1 to 366" }).min(1, { error: "must be a whole number of days from 1 to 366" }).max(366, { error: "must be a whole number of days from 1 to 366" }).default(30),
  scope: z.enum(["mine", "team"], { error: "must be mine or team" }).default("mine"),
});

export const TaskSummary = z.object({
  id: z.string(),
  repository: z.string(),
  prompt: z.string(),
  agent: AgentKind,
  status: TaskStatus,
  executionStep: ExecutionStep.nullable(),
  branch: z.string(),
  /** The model its agent uses; null: the CLI's default. */
  model: z.string().nullable(),
  /** The repository's branch it starts from; null until the node has said which is the default. */
  baseBranch: z.string().nullable(),
  commit: z.string().nullable(),
  /** What its turns cost; null until an agent reported usage. */
  usage: TaskUsageSummary.nullable(),
  /** Best of N: how many candidates its submission has (the list shows the first; absent for one). */
  candidates: z.number().int().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** A message the person sent the task's agent after its prompt (a follow-up). */
export const TaskMessageView = z.object({
  id: z.number().int(),
  clientId: z.string(),
  body: z.string(),
  /** `checks` / `ci`: written by the system after a turn's checks or its pull request's CI failed, asking the agent to fix them. */
  author: z.enum(TASK_MESSAGE_AUTHORS),
  /** `queued` until an agent turn receives it. */
  status: z.enum(TASK_MESSAGE_STATUSES),
  /** The turn that received it (the prompt is turn 1). */
  turn: z.number().int().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type TaskMessageView = z.infer<typeof TaskMessageView>;

/** The current workspace's provisioning on its node: each stage with its duration, and the setup script's newest output lines. */
export const BootLogView = z.object({
  stages: z.array(
    z.object({
      stage: z.string(),
      status: BootStage.shape.status,
      startedAt: z.string(),
      durationMs: z.number().int().nullable(),
      detail: z.string().optional(),
    }),
  ),
  setupOutput: z.array(z.string()),
  setupOutputTruncated: z.boolean(),
});
export type BootLogView = z.infer<typeof BootLogView>;

/** The branch's changes against its base after the newest turn that reported them (counts: null for a binary file). */
export const TaskDiffSummary = z.object({
  turn: z.number().int(),
  base: z.string(),
  head: z.string(),
  files: z.array(z.object({ path: z.string(), oldPath: z.string().optional(), added: z.number().int().nullable(), removed: z.number().int().nullable() })),
  added: z.number().int(),
  removed: z.number().int(),
  /** The patch was cut at the node's DIFF_MAX_BYTES: the files past the cut have counts only. */
  truncated: z.boolean(),
  recordedAt: z.string(),
});
export type TaskDiffSummary = z.infer<typeof TaskDiffSummary>;

/** `GET /api/tasks/{id}/diff`: the same with the unified patch. */
export const TaskDiffView = TaskDiffSummary.extend({ patch: z.string() });
export type TaskDiffView = z.infer<typeof TaskDiffView>;

/** Work whose push was refused, kept on its node until the person pushes it again or discards it. */
export const HeldWorkView = z.object({ workspaceId: z.string(), nodeId: z.string(), since: z.string(), error: z.string().nullable() });
export type HeldWorkView = z.infer<typeof HeldWorkView>;
/** `POST /api/tasks/{id}/push`: whether the node pushed it this time (else why not; the work stays held). */
export const PushAgainResult = z.object({ pushed: z.boolean(), commit: z.string().nullable(), error: z.string().nullable() });
export type PushAgainResult = z.infer<typeof PushAgainResult>;
export const DiscardWorkResult = z.object({ discarded: z.literal(true) });

/** A task's one pull request: its link and state as the forge said last, or why there is none (`error`). */
export const PullRequestView = z.object({
  forge: z.enum(["github"]),
  /** `owner/name` on the forge. */
  repository: z.string(),
  number: z.number().int().nullable(),
  url: z.string().nullable(),
  state: z.enum(PULL_REQUEST_STATES).nullable(),
  error: z.string().nullable(),
  updatedAt: z.string(),
});
export type PullRequestView = z.infer<typeof PullRequestView>;

/**
 * A person's network settings for their tasks' workspaces (`GET` / `PUT /api/settings/network`):
 * the policy a task gets when its submit names none, the hosts an allow-list admits besides the
 * repository's forge and the agent's model API (the package registries), and the private addresses
 * or ranges workspaces may reach. `saved` is false while the configured defaults apply.
 */
export const NetworkSettings = z.object({
  defaultPolicy: EgressPolicy,
  allowHosts: z.array(EgressHost).max(200),
  allowPrivate: z.array(EgressPrivateRange).max(50),
});
export type NetworkSettings = z.infer<typeof NetworkSettings>;
export const NetworkSettingsView = NetworkSettings.extend({ saved: z.boolean() });
export type NetworkSettingsView = z.infer<typeof NetworkSettingsView>;

/** What a task's workspace may reach and what its proxy refused, counted per host, port and reason. */
export const TaskNetworkView = z.object({
  /** Null for a task submitted before egress policies. */
  policy: EgressPolicy.nullable(),
  allowHosts: z.array(z.string()),
  allowPrivate: z.array(z.string()),
  /** Whether its node enforces the policy (null until the node said, or before a node was chosen). */
  enforcement: z.object({ mode: z.enum(["namespaces", "none"]), reason: z.string().nullable() }).nullable(),
  refusals: z.array(z.object({ host: z.string(), port: z.number().int(), reason: EgressRefusalReason, count: z.number().int(), lastAt: z.string() })),
});
export type TaskNetworkView = z.infer<typeof TaskNetworkView>;

export const TaskDetail = TaskSummary.extend({
  error: z.string().nullable(),
  pushed: z.boolean(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  /** When its workspace was cleaned up and its node slot freed (after the task ended). */
  cleanedUpAt: z.string().nullable(),
  steps: z.array(TaskStepView),
  workspace: z
    .object({
      id: z.string(),
      status: z.enum(WORKSPACE_STATUSES),
      nodeId: z.string(),
      error: z.string().nullable(),
      /** When the node reported the workspace ready. */
      readyAt: z.string().nullable(),
    })
    .nullable(),
  node: z.object({ id: z.string(), provider: z.string(), status: NodeStatus, endpoint: z.string().nullable() }).nullable(),
  /** The agent session of the current workspace: `endedAt` is when its completion reached the control plane. */
  session: z
    .object({
      id: z.string(),
      status: z.enum(SESSION_STATUSES),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      /** What went wrong in its last turn, also when the agent succeeded (a push that failed: the work is committed on the node). */
      error: z.string().nullable(),
    })
    .nullable(),
  /**
   * The newest lines of the current attempt's agent output (for CLI agents, their JSON event stream),
   * and how many batches of it are stored: it grows as output arrives; `GET /api/tasks/{id}/output` has them all.
   */
  output: z.object({ lines: z.array(z.string()), truncated: z.boolean(), batches: z.number().int() }),
  /** The person's follow-ups, in the order they were sent. */
  messages: z.array(TaskMessageView),
  /** While it waits for a follow-up: when it stops waiting and completes (null otherwise). */
  idleUntil: z.string().nullable(),
  /** The person asked to finish instead of waiting for a follow-up. */
  finishRequested: z.boolean(),
  /** Its work whose push was refused, held on the node for the person's decision. */
  heldWork: HeldWorkView.nullable(),
  /** How the current workspace was set up on its node (empty before it was requested). */
  bootLog: BootLogView,
  /** Its workspace's egress policy and the connections it refused. */
  network: TaskNetworkView,
  /** What the agent changed against the base branch, as of its newest turn (kept after cleanup). */
  diff: TaskDiffSummary.nullable(),
  /** Its pull request (GitHub repositories only), once a turn pushed. */
  pullRequest: PullRequestView.nullable(),
  /** Tokens, cost and node time, per turn and in total, over every attempt. */
  usageDetail: TaskUsageView,
  /** Its repository's checks after the newest turn that ran them; null before any did. */
  checks: TaskChecksView.nullable(),
  /** Its pull request's CI on the newest pushed commit that was watched; null before any was. */
  ci: TaskCiView.nullable(),
  budget: TaskBudgetView,
  /** Best of N: every candidate of its submission, ranked by evidence; null for a task submitted alone. */
  group: TaskGroupView.nullable(),
  /** Earlier attempts (the task was retried), oldest first, each as it ended. */
  attempts: z.array(
    z.object({
      attempt: z.number().int(),
      status: TaskStatus,
      error: z.string().nullable(),
      commit: z.string().nullable(),
      pushed: z.boolean(),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      steps: z.array(TaskStepView),
      output: z.object({ lines: z.array(z.string()), truncated: z.boolean() }),
    }),
  ),
});
export type TaskDetail = z.infer<typeof TaskDetail>;
export type TaskAttemptView = TaskDetail["attempts"][number];


/**
 * `POST /api/tasks/{id}/messages`: a follow-up for the task's agent. `clientId` (chosen by the
 * sender) makes a resend the same message; without one each request is a new message.
 */
export const SendMessageRequest = z.object({
  body: userText().trim().min(1, "is required").max(20_000),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "must be 1-100 letters, digits, - or _")
    .optional(),
});
export type SendMessageRequest = z.input<typeof SendMessageRequest>;
export const SendMessageResponse = z.object({ message: TaskMessageView });
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

/** `GET /api/repositories/branches?repository=…`: what the submit form offers as base branches. */
export const RepositoryBranchesQuery = z.object({ repository: Repository });
/** `listed: false`: this host's branches are not known here (the node reads them after its clone). */
export const RepositoryBranchesResponse = z.object({
  listed: z.boolean(),
  branches: z.array(z.string()),
  defaultBranch: z.string().nullable(),
  truncated: z.boolean(),
});
export type RepositoryBranchesResponse = z.infer<typeof RepositoryBranchesResponse>;

/** `POST /api/tasks/{id}/finish`: complete when the current turn ends, without waiting for a follow-up. */
export const FinishTaskResponse = z.object({ taskId: z.string(), finishing: z.literal(true) });
export type FinishTaskResponse = z.infer<typeof FinishTaskResponse>;

/** `POST /api/tasks/{id}/retry`: a failed or cancelled task runs again, on the same branch. */
export const RetryTaskResponse = z.object({ taskId: z.string(), status: z.literal("queued"), attempt: z.number().int() });
export type RetryTaskResponse = z.infer<typeof RetryTaskResponse>;

/** A whole number in a query string, from `min` to `max`. */
const queryNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, "must be a whole number")
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be from ${min} to ${max}`);

/**
 * `GET /api/tasks/{id}/output`: an attempt's whole agent output (the task detail carries only its
 * newest lines). `json` answers a page of batches in the order they were stored, after `after`;
 * `text` (the lines as the agent wrote them) and `ndjson` (`{"turn","line"}` a line) download it all.
 */
export const TaskOutputQuery = z.object({
  /** 1 is the first run; unset: the current attempt; `all`: every attempt in order (downloads only). */
  attempt: z.union([z.literal("all"), queryNumber(1, 1_000_000)]).optional(),
  /** The `after` of the previous page; 0 for the first. */
  after: queryNumber(0, Number.MAX_SAFE_INTEGER).default(0),
  /** At most this many lines in a page (a page holds whole batches, at least one). */
  limit: queryNumber(1, 10_000).default(5_000),
  format: z.enum(["json", "text", "ndjson"]).default("json"),
});
export type TaskOutputQuery = z.infer<typeof TaskOutputQuery>;

/**
 * `GET /api/tasks/{id}/record`: the task's whole record, every attempt: each turn as it ended (its
 * commit, usage and cost, the checks the node ran with their output's end, its pull request's CI
 * with the failing logs' ends, the agent's closing summary), every message (the person's and the
 * system's), its pull request and its budget. The agent's output itself is the output download's
 * (`attempt=all`).
 */
export const TaskRecordTurn = z.object({
  turn: z.number().int(),
  commit: z.string().nullable(),
  pushed: z.boolean(),
  error: z.string().nullable(),
  usage: TurnUsage.nullable(),
  costUsd: z.number().nullable(),
  costSource: z.enum(COST_SOURCES).nullable(),
  checks: TurnChecks.nullable(),
  ci: TurnCi.nullable(),
  summary: z.string().nullable(),
  endedAt: z.string(),
});
export const TaskRecord = z.object({
  task: TaskSummary.extend({ error: z.string().nullable(), completedAt: z.string().nullable(), checks: CheckCommands.nullable() }),
  attempts: z.array(z.object({ attempt: z.number().int(), sessionId: z.string().nullable(), status: TaskStatus, error: z.string().nullable(), turns: z.array(TaskRecordTurn) })),
  messages: z.array(TaskMessageView),
  pullRequest: PullRequestView.nullable(),
  budget: TaskBudgetView,
  total: UsageTotals,
});
export type TaskRecord = z.infer<typeof TaskRecord>;

/** Lines the agent's node shipped together, in one turn; `offset` orders them within the turn. */
export const OutputBatch = z.object({ id: z.number().int(), turn: z.number().int(), offset: z.number().int(), lines: z.array(z.string()) });
export type OutputBatch = z.infer<typeof OutputBatch>;

export const TaskOutputPage = z.object({
  attempt: z.number().int(),
  batches: z.array(OutputBatch),
  /**
   * How many batches the attempt had when this page was read. Batches can be stored out of order
   * (a retried delivery), so a reader that holds fewer after its last page missed one: it reads again.
   */
  batchCount: z.number().int(),
  /** The `after` for the next page, and after the last page for output stored later. */
  after: z.number().int(),
  /** More batches are stored than this page holds. */
  more: z.boolean(),
  /** The task's oldest output removed past TASK_OUTPUT_MAX_BYTES (lines and bytes); null when none was. */
  dropped: z.object({ lines: z.number().int(), bytes: z.number().int() }).nullable().optional(),
});
export type TaskOutputPage = z.infer<typeof TaskOutputPage>;

export const TaskList = z.object({ tasks: z.array(TaskSummary) });
export type TaskList = z.infer<typeof TaskList>;

/** A task holding a slot on a node (placed on it, its cleanup not done). */
export const NodeSlotTask = z.object({
  id: z.string(),
  /** The first line of its prompt, shortened. */
  title: z.string(),
  status: TaskStatus,
});
export type NodeSlotTask = z.infer<typeof NodeSlotTask>;

/** One node as the nodes page shows it. Times are ISO strings; percentages 0–100. */
export const NodeView = z.object({
  id: z.string(),
  provider: z.string(),
  status: NodeStatus,
  health: NodeHealth,
  endpoint: z.string().nullable(),
  cpuPercent: z.number().nullable(),
  memoryPercent: z.number().nullable(),
  diskPercent: z.number().nullable(),
  lastHeartbeatAt: z.string().nullable(),
  /** Since when the node has been idle in the warm pool; null while it works or once it is gone. */
  warmSince: z.string().nullable(),
  createdAt: z.string(),
  /** When its status, health or load last changed. */
  updatedAt: z.string(),
  /** Why the node was lost or destroyed, when it was. */
  errorMessage: z.string().nullable(),
  /** Its slots: how many tasks hold one, out of how many, and which. */
  workspaces: z.object({ count: z.number().int(), capacity: z.number().int(), tasks: z.array(NodeSlotTask) }),
  /** Created by the control plane for a task (and destroyed by it when unused). */
  autoProvisioned: z.boolean(),
  /**
   * How the node keeps workspaces apart (lib/nodes/isolation.ts): `users`, each runs as its own
   * Unix user; `none`, they share the daemon's user, `reason` saying why; null, not said yet.
   */
  isolation: z.object({ mode: z.enum(["users", "none"]).nullable(), reason: z.string().nullable() }),
  /** How it holds workspaces to their egress policy: `namespaces`, or `none` with why; null until its daemon said. */
  egress: z.object({ mode: z.enum(["namespaces", "none"]).nullable(), reason: z.string().nullable() }),
});
export type NodeView = z.infer<typeof NodeView>;

export const NodeList = z.object({ nodes: z.array(NodeView) });
export type NodeList = z.infer<typeof NodeList>;

/** `GET /api/nodes` and its live stream: `?all=1` includes nodes that stopped more than a day ago. */
export const NodeListQuery = z.object({ all: z.enum(["0", "1"]).optional().transform((v) => v === "1") });

/** `POST /api/nodes/{id}/destroy`. Without `force`, a node that holds tasks is refused (409). */
export const DestroyNodeRequest = z.object({ force: z.boolean().default(false) });
export type DestroyNodeRequest = z.input<typeof DestroyNodeRequest>;

export const DestroyNodeResponse = z.object({
  nodeId: z.string(),
  status: NodeStatus,
  /** The tasks that held a slot and were woken to move to another node or fail (only with `force`). */
  tasks: z.array(z.string()),
});
export type DestroyNodeResponse = z.infer<typeof DestroyNodeResponse>;

/** failure: permanent; recovery: re-driven or restarted; stuck; orphan; cleanup: a cleanup that failed and is retried. */
export const ErrorKind = z.enum(["failure", "recovery", "stuck", "orphan", "cleanup"]);
export type ErrorKind = z.infer<typeof ErrorKind>;

/** One recorded error, with what it touched. */
export const ErrorView = z.object({
  id: z.number().int(),
  kind: ErrorKind,
  taskId: z.string().nullable(),
  nodeId: z.string().nullable(),
  workspaceId: z.string().nullable(),
  step: z.string().nullable(),
  message: z.string(),
  createdAt: z.string(),
  /** The first line of the task's prompt, when there is a task. */
  taskTitle: z.string().nullable(),
});
export type ErrorView = z.infer<typeof ErrorView>;

/** The newest errors (at most 200), of one kind when filtered, and how many there are of each kind. */
export const ErrorList = z.object({
  errors: z.array(ErrorView),
  counts: z.record(ErrorKind, z.number().int()),
});
export type ErrorList = z.infer<typeof ErrorList>;

/** `GET /api/errors` and its live stream: `?kind=` keeps one kind. */
export const ErrorListQuery = z.object({ kind: ErrorKind.optional() });

/**
 * What the live streams send. `GET /api/tasks/{id}/events` sends `task` messages (the first is the
 * snapshot); `GET /api/events` first sends `tasks` (the list), then a `task` message per change.
 * `GET /api/nodes/events` sends `nodes` (the whole list, again after every change), and
 * `GET /api/errors/events` sends `errors` the same way.
 * Every message carries an SSE `id`, so a reconnecting browser resumes with Last-Event-ID.
 */
export const LiveMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("task"), task: TaskDetail }),
  z.object({ type: z.literal("tasks"), tasks: z.array(TaskSummary) }),
  z.object({ type: z.literal("nodes"), nodes: z.array(NodeView) }),
  z.object({ type: z.literal("errors"), errors: z.array(ErrorView), counts: ErrorList.shape.counts }),
]);
export type LiveMessage = z.infer<typeof LiveMessage>;

/** Every 4xx/5xx body of the API. */
export { SecretName };

export const SECRET_LABELS: Record<SecretName, string> = {
  ...MODEL_KEY_LABELS,
  GITHUB_TOKEN: "GitHub token (push, pull requests)",
  HETZNER_TOKEN: "Hetzner Cloud API token (read & write; creates your nodes when the control plane runs them on Hetzner)",
};

/** A stored secret as the API shows it: never its value. */
export const SecretView = z.object({ name: SecretName, label: z.string(), updatedAt: z.string() });
export type SecretView = z.infer<typeof SecretView>;
export const SecretList = z.object({ secrets: z.array(SecretView) });
export const PutSecretRequest = z.object({ value: userText().trim().min(1, "is required").max(10_000) });
export type PutSecretRequest = z.input<typeof PutSecretRequest>;

/** Who is signed in, and how this control plane is run (the header shows it; pages adapt to it). */
export const Me = z.object({
  mode: z.enum(["local", "team"]),
  user: z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.enum(["admin", "member"]) }),
  /** How this request was authenticated. */
  via: z.enum(["local", "token", "session"]),
});
export type Me = z.infer<typeof Me>;

/** Personal API tokens (team mode): the secret is in the answer to POST only. */
/** Team mode: an admin invites a person by email (POST /api/invitations); they may then sign in with GitHub under it. */
export const CreateInvitationRequest = z.object({
  email: z
    .string()
    .trim()
    .max(254)
    .regex(/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/, "must be an email address"),
});
export type CreateInvitationRequest = z.input<typeof CreateInvitationRequest>;

export const InvitationView = z.object({
  email: z.string(),
  /** The admin who invited (their user id); null for one carried over or made by the admin command. */
  invitedBy: z.string().nullable(),
  createdAt: z.string(),
  /** When the invited person first signed in with it. */
  acceptedAt: z.string().nullable(),
});
export type InvitationView = z.infer<typeof InvitationView>;
export const InvitationList = z.object({ invitations: z.array(InvitationView) });

export const CreateApiTokenRequest = z.object({ name: userText().trim().min(1, "is required").max(100) });
export type CreateApiTokenRequest = z.input<typeof CreateApiTokenRequest>;

export const ApiTokenView = z.object({
  id: z.string(),
  name: z.string(),
  /** The token's first characters, to tell tokens apart. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiTokenView = z.infer<typeof ApiTokenView>;
export const ApiTokenList = z.object({ tokens: z.array(ApiTokenView) });
export const CreatedApiToken = ApiTokenView.extend({ token: z.string() });

/** `POST /api/machines/registrations`: a machine's one-time install command, shown once. */
export const CreatedMachineRegistration = z.object({
  id: z.string(),
  /** The one-time token (`acpm_…`), also inside `command`. */
  token: z.string(),
  /** The line to run on the machine, as root (it uses sudo). */
  command: z.string(),
  /** When the token stops working, if it was not used before. */
  expiresAt: z.string(),
});
export type CreatedMachineRegistration = z.infer<typeof CreatedMachineRegistration>;

/**
 * `POST /api/machines/register`, sent by the installer with no session: the token is its only
 * credential. `advertisedHost`: where the control plane reaches the machine, when not at the address
 * its request comes from (a machine behind NAT, or reached by name).
 */
export const RegisterMachineRequest = z.object({
  token: z.string().regex(/^acpm_[A-Za-z0-9_-]{43}$/, "must be a registration token (acpm_ and 43 letters, digits, _ or -)"),
  advertisedHost: z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: "must be an IP address or a host name" }).optional(),
});
export type RegisterMachineRequest = z.infer<typeof RegisterMachineRequest>;

/** A node's one-time enrollment token (lib/nodes/enrollment.ts), as its cloud-init carries it. */
export const EnrollmentToken = z.string().regex(/^acpe_[A-Za-z0-9_-]{43}$/, "must be an enrollment token (acpe_ and 43 letters, digits, _ or -)");

/**
 * `POST /api/nodes/{id}/enroll`, sent by a cloud node's installer at first boot with no session and
 * no bearer token: the one-time token is its only credential, exchanged for the node's callback token.
 */
export const EnrollNodeRequest = z.object({ token: EnrollmentToken });
export type EnrollNodeRequest = z.infer<typeof EnrollNodeRequest>;

export const ApiError = z.object({
  error: z.string(),
  /** The request field that is wrong, dotted ("prompt", "agent"). */
  field: z.string().optional(),
});
export type ApiError = z.infer<typeof ApiError>;
