/**
 * Workspace isolation on nodes, and the one rule about it. A node's daemon says at ready whether
 * each workspace's setup script and agent run as their own unprivileged Unix user (`users`) or as
 * the daemon's own user (`none`: it cannot create users, as when it is not root on a laptop).
 *
 * The rule: in team mode a node that is not `users` gets no work. It is never a placement candidate;
 * one that turns out `none` at ready is refused (lib/nodes/lifecycle.ts: its waiting tasks fail with
 * the reason and it is destroyed); a task is never started on one (lib/pipeline/placement.ts).
 * Local mode has one person, whose agents may share a user: it records and shows, and refuses nothing.
 */
import { sql } from "drizzle-orm";
import type { Config } from "../config";
import type { WorkspaceIsolation } from "../contracts/vm-agent";

export type IsolationMode = WorkspaceIsolation["mode"];
type AuthMode = Config["AUTH_MODE"];

/** A node's isolation columns: `isolation` is null until its daemon has said. */
export type NodeIsolation = { id: string; isolation: string | null; isolationReason: string | null };

/** Why a node says `none` when its daemon does not say (a vm-agent from before workspace users). */
export const UNREPORTED_ISOLATION_REASON = "its vm-agent does not report how it keeps workspaces apart (an older version)";

/** Why a node's egress counts as not enforced when its daemon does not say. */
export const UNREPORTED_EGRESS_REASON = "its vm-agent does not report how it holds workspaces to their egress policy (an older version)";

type ReportedColumns = { isolation: IsolationMode; isolationReason: string | null; egress: "namespaces" | "none"; egressReason: string | null };

/** The columns a ready report sets. A report without a field is from a daemon older than it: it does not do what the field says. */
export function reportedIsolation(report: WorkspaceIsolation | undefined): ReportedColumns {
  const egress = report?.egress ?? { mode: "none" as const, reason: UNREPORTED_EGRESS_REASON };
  const egressColumns = { egress: egress.mode, egressReason: egress.mode === "none" ? (egress.reason ?? null) : null };
  if (!report) return { isolation: "none", isolationReason: UNREPORTED_ISOLATION_REASON, ...egressColumns };
  return { isolation: report.mode, isolationReason: report.mode === "none" ? (report.reason ?? null) : null, ...egressColumns };
}

/** Whether work may only go to nodes whose workspaces run as their own users. */
export const workspaceUsersRequired = (authMode: AuthMode) => authMode === "team";

export function isolationRefusalMessage(node: NodeIsolation) {
  const reason = node.isolationReason ?? "its daemon gave no reason";
  return `node ${node.id} cannot run each workspace as its own user (${reason}); team mode places no work on it`;
}

/**
 * May the node get work? `unreported`: it has not said yet (a running node the monitor marked ready
 * without its report, which the daemon sends again): it gets none until it says.
 */
export type IsolationVerdict = { kind: "ok" } | { kind: "unreported" } | { kind: "refused"; message: string };

export function isolationVerdict(authMode: AuthMode, node: NodeIsolation): IsolationVerdict {
  if (!workspaceUsersRequired(authMode) || node.isolation === "users") return { kind: "ok" };
  if (node.isolation === null) return { kind: "unreported" };
  return { kind: "refused", message: isolationRefusalMessage(node) };
}

/**
 * The same rule as a condition on the nodes table under `alias`, for placement: a node that said
 * `users`, or one still coming up that has not said yet (it is judged when it reports ready).
 */
export function placeableIsolationSql(authMode: AuthMode, alias: string) {
  if (!workspaceUsersRequired(authMode)) return sql`true`;
  const column = (name: string) => sql.raw(`${alias}.${name}`);
  return sql`(${column("isolation")} = 'users' or (${column("isolation")} is null and ${column("status")} <> 'running'))`;
}
