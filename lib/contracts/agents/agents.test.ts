import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NodeSecretName, SecretName, AgentKind as WireAgentKind } from "../vm-agent";
import { clipSummary, jsonLine, SUMMARY_MAX_CHARS } from "./adapter";
import { AGENTS, MODEL_KEYS, modelKeysOf } from "./index";

const FIXTURES = new URL("./fixtures/", import.meta.url);
/** The output an agent's CLI really wrote (fixtures/README.md): its file is named by the agent. */
function fixtureOf(name: string): string[] {
  const file = fs.readdirSync(FIXTURES).find((entry) => path.parse(entry).name === name);
  if (!file) throw new Error(`agent ${name} has no fixture in lib/contracts/agents/fixtures/`);
  return fs.readFileSync(new URL(file, FIXTURES), "utf8").trimEnd().split("\n");
}

describe("the agent registry", () => {
  it("names each agent once, and its names are the wire contract's agent kinds", () => {
    const names = AGENTS.map((agent) => agent.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...WireAgentKind.options].sort());
  });

  it("keeps the names stored tasks and secrets already carry (an adapter renamed or dropped would orphan them)", () => {
    expect(WireAgentKind.options).toEqual(expect.arrayContaining(["script", "claude-code", "codex"]));
    expect(SecretName.options).toEqual(expect.arrayContaining(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "HETZNER_TOKEN"]));
  });

  it("hands each agent's sessions only keys a person can store and a node may receive, each with a label", () => {
    for (const agent of AGENTS) for (const name of modelKeysOf(agent.name)) expect(NodeSecretName.options).toContain(name);
    for (const key of MODEL_KEYS) expect(key.label.trim()).not.toBe("");
  });
});

describe.each(AGENTS.map((agent) => [agent.name, agent] as const))("the %s adapter", (name, agent) => {
  const lines = fixtureOf(name);
  const others = AGENTS.filter((other) => other !== agent);

  it("reads every line of its own output, and no other adapter claims one (so a line says whose it is)", () => {
    for (const line of lines) {
      const value = jsonLine(line);
      if (agent.output.event) {
        expect(agent.output.event.safeParse(value).success, line).toBe(true);
        expect(agent.output.read(value), line).toBeDefined();
      } else {
        // Plain text: no line is an event, of its own CLI or another's.
        expect(agent.output.read(value), line).toBeUndefined();
      }
      for (const other of others) expect(other.output.event?.safeParse(value).success ?? false, `${other.name} claims ${line}`).toBe(false);
    }
  });

  it("finds a conversation id in its output exactly when its CLI resumes one", () => {
    const output = lines.join("\n");
    if (agent.output.event) expect(agent.output.conversationId(output)).toMatch(/^[0-9a-f-]{36}$/);
    else expect(agent.output.conversationId(output)).toBeUndefined();
  });

  it("reports what the run used exactly when its CLI's stream says", () => {
    const usage = agent.output.usage(lines.join("\n"));
    if (agent.output.event) expect(usage?.outputTokens, "output tokens of a real run").toBeGreaterThan(0);
    else expect(usage).toBeUndefined();
  });

  it("reads the closing summary its run ended with, trimmed", () => {
    const summary = agent.output.summary(lines.join("\n"));
    expect(summary?.length, "the summary of a real run").toBeGreaterThan(0);
    expect(summary).toBe(summary?.trim());
  });
});

describe("clipSummary", () => {
  it("keeps a summary within the limit as it is", () => {
    const text = "x".repeat(SUMMARY_MAX_CHARS);
    expect(clipSummary(text)).toBe(text);
  });

  it("cuts a longer one to the limit, its start kept and the cut marked", () => {
    const clipped = clipSummary(`Start. ${"y".repeat(SUMMARY_MAX_CHARS)}`);
    expect(clipped).toHaveLength(SUMMARY_MAX_CHARS);
    expect(clipped.startsWith("Start. y")).toBe(true);
    expect(clipped.endsWith("…")).toBe(true);
  });

  it("never splits a character of two UTF-16 units", () => {
    // "😀" is two units: a cut at 9 units would fall between the two of the one at 8.
    expect(clipSummary("abcdefgh😀z", 10)).toBe("abcdefgh…");
    expect(clipSummary("abcdefg😀😀z", 10)).toBe("abcdefg😀…");
  });
});
