/**
 * Every value a status column may hold, one list per entity, and the named sets of them the code
 * selects by. The schema's columns are declared with these lists (db/ imports nothing above it, so
 * they live here); lib/contracts/statuses.ts hands them on to the domain and the UI, and the API's
 * enums are made from them.
 */

export const TASK_STATUSES = ["draft", "ready", "queued", "delegated", "in_progress", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** Tasks that have ended: their run is over and their cleanup may run. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"];
/** The statuses in which a task's run works on it (the recovery nets look only at these). */
export const RUN_TASK_STATUSES: readonly TaskStatus[] = ["queued", "delegated", "in_progress"];
/** Only a failed or cancelled task can be run again. */
export const RETRYABLE_TASK_STATUSES: readonly TaskStatus[] = ["failed", "cancelled"];

/** A task's pipeline step (task_steps, and the timelines kept in task_attempts). */
export const TASK_STEP_STATUSES = ["running", "succeeded", "failed", "skipped"] as const;
export type TaskStepStatus = (typeof TASK_STEP_STATUSES)[number];

/** A follow-up is `queued` until an agent turn receives it. */
export const TASK_MESSAGE_STATUSES = ["queued", "delivered"] as const;
/**
 * Who wrote a follow-up: the person, or the system after a turn's checks failed (lib/checks/rounds.ts),
 * its pull request's CI failed (lib/ci/rounds.ts), or a raised budget resumed an interrupted turn (lib/budgets/).
 */
export const TASK_MESSAGE_AUTHORS = ["person", "checks", "ci", "budget"] as const;
export type TaskMessageAuthor = (typeof TASK_MESSAGE_AUTHORS)[number];
export type TaskMessageStatus = (typeof TASK_MESSAGE_STATUSES)[number];

export const NODE_STATUSES = ["pending", "creating", "running", "stopping", "stopped", "error"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
/** Nodes that count against a user's MAX_NODES_PER_USER (a lost node counts until its machine is destroyed). */
export const LIVE_NODE_STATUSES: readonly NodeStatus[] = ["pending", "creating", "running", "stopping", "error"];
/**
 * Nodes that are wanted, neither gone nor going: a task may be placed on one (a creating node's
 * free slot is taken rather than creating another), its ready report is taken, and it can be lost.
 */
export const WANTED_NODE_STATUSES: readonly NodeStatus[] = ["pending", "creating", "running"];
/** Nodes that are gone or going: a task on one must go on elsewhere or fail. */
export const GONE_NODE_STATUSES: readonly NodeStatus[] = ["stopping", "stopped", "error"];
/** Nodes that are gone for good. */
export const ENDED_NODE_STATUSES: readonly NodeStatus[] = ["stopped", "error"];
/** Nodes stopped or being stopped: destroying one again is refused. */
export const STOPPED_NODE_STATUSES: readonly NodeStatus[] = ["stopping", "stopped"];
/** Nodes whose machine may still be created (it has none yet). */
export const PROVISIONING_NODE_STATUSES: readonly NodeStatus[] = ["pending", "creating"];
/** Nodes whose daemon runs or is booting: the monitor watches them, probes them and restarts their daemon. */
export const MONITORED_NODE_STATUSES: readonly NodeStatus[] = ["creating", "running"];

export const NODE_HEALTH = ["unknown", "healthy", "stale", "unhealthy", "restarting"] as const;
export type NodeHealth = (typeof NODE_HEALTH)[number];
/** Health a node may get new work in (a stale node's load is not known). */
export const PLACEABLE_NODE_HEALTH: readonly NodeHealth[] = ["unknown", "healthy"];

/** The transitions between them are lib/workspaces/lifecycle.ts's table. */
export const WORKSPACE_STATUSES = ["pending", "creating", "running", "recovery", "stopping", "stopped", "error"] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];
/** Workspaces the node is setting up: its ready or provisioning-failed report applies to them. */
export const PROVISIONING_WORKSPACE_STATUSES: readonly WorkspaceStatus[] = ["pending", "creating", "recovery"];
/** Workspaces that are over: stopped after their task, or errored (an errored one keeps its error). */
export const ENDED_WORKSPACE_STATUSES: readonly WorkspaceStatus[] = ["stopped", "error"];

/**
 * `starting`: the row exists and the node has not accepted the start yet. The transitions are
 * lib/sessions/lifecycle.ts's table.
 */
export const SESSION_STATUSES = ["starting", "running", "suspended", "stopped", "error"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** Sessions whose agent may still be working. */
export const LIVE_SESSION_STATUSES: readonly SessionStatus[] = ["starting", "running"];
/** Sessions whose last turn ended (stopped: it succeeded or was stopped; error: the agent failed). */
export const ENDED_SESSION_STATUSES: readonly SessionStatus[] = ["stopped", "error"];

/** A pull request's state as its forge said last. */
export const PULL_REQUEST_STATES = ["draft", "open", "merged", "closed"] as const;
export type PullRequestState = (typeof PULL_REQUEST_STATES)[number];
/** Pull requests that may still change on the forge (the refresh looks at these). */
export const OPEN_PULL_REQUEST_STATES: readonly PullRequestState[] = ["draft", "open"];

/** Where a turn's cost came from: the agent CLI's own figure, or the control plane's price table (MODEL_PRICES). */
/** `estimate`: a turn cut short before its CLI reported a total (an interrupt), priced from its messages' usage as they streamed. */
export const COST_SOURCES = ["agent", "price-table", "estimate"] as const;
export type CostSource = (typeof COST_SOURCES)[number];
