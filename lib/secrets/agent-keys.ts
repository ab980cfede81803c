/**
 * Which of a person's secrets an agent needs, and whether they have them: checked at submit, so a
 * task never fails later for a key nobody set. In local mode the control plane's own environment
 * (ANTHROPIC_API_KEY, OPENAI_API_KEY) stands in for keys the one user has not stored.
 */
import type { Executor } from "@/db/client";
import type { Config } from "../config";
import { AGENT_SECRETS, type SecretName } from "../contracts/api";
import type { AgentKind } from "../contracts/vm-agent";
import { listSecrets } from "./store";

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor(agent: AgentKind, secret: SecretName) {
    super(`a ${agent} task needs your ${secret}: store it with PUT /api/secrets/${secret}, then submit again`);
  }
}

const fromEnvironment = (config: Pick<Config, "AUTH_MODE" | "ANTHROPIC_API_KEY" | "OPENAI_API_KEY">, name: SecretName) =>
  config.AUTH_MODE === "local" && name !== "GITHUB_TOKEN" ? config[name] : undefined;

export async function checkAgentSecrets(executor: Executor, config: Pick<Config, "AUTH_MODE" | "ANTHROPIC_API_KEY" | "OPENAI_API_KEY">, userId: string, agent: AgentKind) {
  const needed = AGENT_SECRETS[agent];
  if (!needed.length) return;
  const stored = new Set((await listSecrets(executor, userId)).map((s) => s.name));
  const missing = needed.find((name) => !stored.has(name) && !fromEnvironment(config, name));
  if (missing) throw new MissingSecretError(agent, missing);
}
