/**
 * Which of a person's secrets an agent needs, whether they have them (checked at submit, so a task
 * never fails later for a key nobody set), and the values its session is handed: the model keys its
 * adapter names (lib/contracts/agents). In local mode the control plane's own environment
 * (ANTHROPIC_API_KEY, OPENAI_API_KEY, …) stands in for keys the one user has not stored.
 */
import type { Executor } from "@/db/client";
import type { Config } from "../config";
import { modelKeysOf, type ModelKeyName } from "../contracts/agents";
import type { AgentKind, NodeSecretName, SecretName, SessionSecrets } from "../contracts/vm-agent";
import type { KeyRing } from "../envelope";
import { listSecrets, secretValues } from "./store";
import { forgeRepositoryOf } from "../forge-target";

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor(agent: AgentKind, secret: SecretName) {
    super(`a ${agent} task needs your ${secret}: add it in Settings → Secrets (/settings#secrets) or with PUT /api/secrets/${secret}, then submit again`);
  }
}

type ModelKeyConfig = Pick<Config, "AUTH_MODE" | ModelKeyName>;

const fromEnvironment = (config: ModelKeyConfig, name: NodeSecretName) => (config.AUTH_MODE === "local" && name !== "GITHUB_TOKEN" ? config[name] : undefined);

export async function checkAgentSecrets(executor: Executor, config: ModelKeyConfig, userId: string, agent: AgentKind) {
  const needed = modelKeysOf(agent);
  if (!needed.length) return;
  const stored = new Set((await listSecrets(executor, userId)).map((s) => s.name));
  const missing = needed.find((name) => !stored.has(name) && !fromEnvironment(config, name));
  if (missing) throw new MissingSecretError(agent, missing);
}

type KeySource = { executor: Executor; ring: KeyRing; config: ModelKeyConfig & Pick<Config, "GITHUB_URL"> };

/**
 * Whether the person's GitHub token may leave the control plane for this repository: an https
 * repository on the configured forge. For any other (a local path, another host) it stays here,
 * whatever the node would do with it.
 */
const tokenGoesWith = (repository: string, githubUrl: string) => /^https:\/\//i.test(repository) && forgeRepositoryOf(repository, githubUrl) !== undefined;

/** What one agent session of `userId` is handed: the model key its agent needs and the GitHub token, when set and its repository is on the forge. */
export async function sessionSecrets(source: KeySource, userId: string, agent: AgentKind, repository: string): Promise<SessionSecrets> {
  const names: NodeSecretName[] = [...modelKeysOf(agent), ...(tokenGoesWith(repository, source.config.GITHUB_URL) ? (["GITHUB_TOKEN"] as const) : [])];
  const stored = await secretValues(source.executor, source.ring, userId, names);
  const secrets: SessionSecrets = {};
  for (const name of names) {
    const value = stored[name] ?? fromEnvironment(source.config, name);
    if (value) secrets[name] = value;
  }
  return secrets;
}

/** What a workspace is handed at creation: the GitHub token for cloning and pushing, when set and its repository is on the forge. */
export async function workspaceSecrets(source: KeySource, userId: string, repository: string): Promise<SessionSecrets> {
  if (!tokenGoesWith(repository, source.config.GITHUB_URL)) return {};
  const { GITHUB_TOKEN } = await secretValues(source.executor, source.ring, userId, ["GITHUB_TOKEN"]);
  return GITHUB_TOKEN ? { GITHUB_TOKEN } : {};
}
