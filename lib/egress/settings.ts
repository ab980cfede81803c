/**
 * A workspace's egress, decided on the control plane: a person's network settings (their default
 * policy, the hosts an allow-list admits, the private ranges they allow; the configured defaults
 * until they save their own), fixed on a task at submit, and sent to the node with the workspace's
 * create request together with the hosts no workspace may reach (contracts/egress.ts).
 */
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { users } from "@/db/schema";
import type { Config } from "../config";
import type { NetworkSettings, NetworkSettingsView } from "../contracts/api";
import { EgressHost, type EgressPolicy, type WorkspaceEgress } from "../contracts/egress";

export type TaskEgress = Pick<WorkspaceEgress, "policy" | "allowHosts" | "allowPrivate">;
type EgressConfig = Pick<Config, "EGRESS_POLICY" | "EGRESS_ALLOW_HOSTS" | "EGRESS_ALLOW_PRIVATE">;

const defaults = (config: EgressConfig): NetworkSettings => ({ defaultPolicy: config.EGRESS_POLICY, allowHosts: config.EGRESS_ALLOW_HOSTS, allowPrivate: config.EGRESS_ALLOW_PRIVATE });

/** The person's network settings; the configured defaults while they have saved none. */
export async function networkSettings(db: Executor, config: EgressConfig, userId: string): Promise<NetworkSettingsView> {
  const [row] = await db.select({ settings: users.networkSettings }).from(users).where(eq(users.id, userId));
  return row?.settings ? { ...row.settings, saved: true } : { ...defaults(config), saved: false };
}

/** Saves the person's settings (validated by the route); hosts and ranges de-duplicated in their order. */
export async function saveNetworkSettings(db: Executor, userId: string, settings: NetworkSettings): Promise<NetworkSettingsView> {
  const saved = { defaultPolicy: settings.defaultPolicy, allowHosts: [...new Set(settings.allowHosts)], allowPrivate: [...new Set(settings.allowPrivate)] };
  await db.update(users).set({ networkSettings: saved }).where(eq(users.id, userId));
  return { ...saved, saved: true };
}

/** The host (with its port when not the scheme's default) of an http(s) repository URL, as an allow-list names it; undefined for a path or ssh. */
function repositoryHost(repository: string): string | undefined {
  try {
    const url = new URL(repository);
    if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
    const parsed = EgressHost.safeParse(url.host);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A new task's egress: the policy asked for (else the person's default), and for an allow-list the
 * repository's own https host first, then the person's hosts. The agent's model API is added by
 * the node, which knows where its agents' APIs are.
 */
export async function egressForNewTask(db: Executor, config: EgressConfig, userId: string, repository: string, asked: EgressPolicy | undefined): Promise<TaskEgress> {
  const settings = await networkSettings(db, config, userId);
  const forge = repositoryHost(repository);
  return { policy: asked ?? settings.defaultPolicy, allowHosts: [...new Set([...(forge ? [forge] : []), ...settings.allowHosts])], allowPrivate: settings.allowPrivate };
}

/** A task's egress as stored; a task from before egress policies gets the configured defaults. */
export function taskEgress(task: { egress: TaskEgress | null }, config: EgressConfig): TaskEgress {
  return task.egress ?? { policy: config.EGRESS_POLICY, allowHosts: config.EGRESS_ALLOW_HOSTS, allowPrivate: config.EGRESS_ALLOW_PRIVATE };
}

const hostOf = (url: string | undefined) => {
  if (!url) return [];
  try {
    return [new URL(url).hostname.replace(/^\[|\]$/g, "")];
  } catch {
    return [];
  }
};

/**
 * What the node is told: the task's egress and the hosts never reachable from a workspace whatever
 * the policy: the control plane's own (APP_URL, where nodes call back) and the engine's. The node
 * adds its own addresses, loopback, link-local and private ranges itself.
 */
export function workspaceEgress(task: { egress: TaskEgress | null }, config: EgressConfig & Pick<Config, "APP_URL" | "INNGEST_BASE_URL">): WorkspaceEgress {
  const denyHosts = [...new Set([...hostOf(config.APP_URL), ...hostOf(config.INNGEST_BASE_URL)])];
  return { ...taskEgress(task, config), denyHosts };
}
