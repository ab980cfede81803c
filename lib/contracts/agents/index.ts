/**
 * Every agent CLI the product runs, one adapter each (adapter.ts says what an adapter declares).
 * Adding an agent is its file and a line in AGENTS; the wire enum, the model keys and the settings
 * derive from them, and the daemon's launcher for it (vm-agent/agents/) is then required by type.
 */
import { z } from "zod";
import { claudeCode } from "./claude-code";
import { codex } from "./codex";
import { script } from "./script";

export type { AgentAdapter, CliPackage, OutputFormat } from "./adapter";

export const AGENTS = [script, claudeCode, codex] as const;
/** The agent of a task that names none: the one that needs nothing installed and no key. */
export const DEFAULT_AGENT = script.name;

/** One of the registry's adapters, its names literal. */
export type Agent = (typeof AGENTS)[number];
export const AgentKind = z.enum(AGENTS.map((agent) => agent.name));
export type AgentKind = Agent["name"];

/** A model key an agent's sessions are handed (ANTHROPIC_API_KEY, …). */
export type ModelKeyName = Agent["keys"][number]["name"];
type ModelKey = { name: ModelKeyName; label: string };
/** The control plane's settings naming each agent's default model (CLAUDE_CODE_MODEL, …). */
export type ModelSetting = Extract<Agent, { model: unknown }>["model"]["setting"];

/** The node's settings naming each CLI's binary (CLAUDE_CODE_BIN, …) and each model API's base URL (ANTHROPIC_BASE_URL, …). */
export type CliSetting = Extract<Agent, { cli: unknown }>["cli"]["binSetting"];
export type ModelApiSetting = Extract<Agent, { modelApi: unknown }>["modelApi"]["baseUrlSetting"];

const byName = new Map<AgentKind, Agent>(AGENTS.map((agent) => [agent.name, agent]));

/** What the product knows of `kind`'s CLI. */
export const agentAdapter = (kind: AgentKind): Agent => byName.get(kind)!;

/** Every model key, once, with what a person sees it as. */
export const MODEL_KEYS: readonly ModelKey[] = [...new Map(AGENTS.flatMap((agent): readonly ModelKey[] => agent.keys).map((key) => [key.name, key])).values()];

export const MODEL_KEY_NAMES: readonly ModelKeyName[] = MODEL_KEYS.map((key) => key.name);

/** What a person sees each model key as (Settings → Secrets). Every name is a key of MODEL_KEYS, which fromEntries cannot say. */
export const MODEL_KEY_LABELS = Object.fromEntries(MODEL_KEYS.map((key) => [key.name, key.label])) as Record<ModelKeyName, string>;

/** The model keys a session of `kind` is handed. */
export function modelKeysOf(kind: AgentKind): ModelKeyName[] {
  const keys: readonly ModelKey[] = agentAdapter(kind).keys;
  return keys.map((key) => key.name);
}

/** Every agent's default-model setting. */
export const MODEL_SETTINGS: readonly ModelSetting[] = AGENTS.flatMap((agent) => ("model" in agent ? [agent.model.setting] : []));

/** The node's settings naming the CLIs' binaries, and their model APIs' base URLs. */
export const CLI_SETTINGS: readonly CliSetting[] = AGENTS.flatMap((agent) => ("cli" in agent ? [agent.cli.binSetting] : []));
export const MODEL_API_SETTINGS: readonly ModelApiSetting[] = AGENTS.flatMap((agent) => ("modelApi" in agent ? [agent.modelApi.baseUrlSetting] : []));

/** The setting naming `kind`'s default model; none for an agent that takes no model. */
export function modelSettingOf(kind: AgentKind): ModelSetting | undefined {
  const agent = agentAdapter(kind);
  return "model" in agent ? agent.model.setting : undefined;
}

/** One schema for each name (a config shape for every model key, say), keyed by those names (fromEntries cannot say which). */
export function shapeOf<Name extends string, Schema extends z.ZodType>(names: readonly Name[], schema: Schema): Record<Name, Schema> {
  return Object.fromEntries(names.map((name) => [name, schema])) as Record<Name, Schema>;
}
