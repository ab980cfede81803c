/**
 * What an agent's output says, as the task page shows it: each adapter reads its CLI's own event
 * stream (Claude Code's stream-json, Codex's `exec --json`) into these, never the model describing
 * itself; the page folds them into entries (app/_lib/agent-output).
 */

/** Where a tool call stands: `running` until its result arrives. */
export type ToolStatus = "ok" | "failed" | "running";

export type ToolCall = {
  /** The CLI's id for the call (a tool_use id, a Codex item id): its result is paired by it. */
  id: string;
  /** The tool: Bash, Read, Edit, a shell command, an MCP tool… */
  name: string;
  /** One line saying what it acts on: the command, the file, or its main argument. */
  subject: string;
  /** A file subject is shown relative to the session's working folder. */
  subjectIsFile: boolean;
  status: ToolStatus;
  /** Its input as the CLI sent it (clipped). */
  input: string;
  /** What came back (clipped); null until it did. */
  result: string | null;
};

/** One entry of an agent's turn. `text` is Markdown; `line` is a line that is no event, shown as it is. */
export type AgentItem =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string }
  | { kind: "tool"; call: ToolCall }
  | { kind: "error"; text: string }
  | { kind: "notice"; text: string }
  | { kind: "line"; text: string };

/**
 * What one output line contributes, before tool results are paired with their calls:
 * `tool` is a call or a newer state of one (replaces the call with the same id), `tool-result`
 * answers one by id, `session` names the working folder, `run-ended` closes calls left running.
 */
export type LineEvent =
  | Exclude<AgentItem, { kind: "tool" }>
  | { kind: "tool"; call: ToolCall }
  | { kind: "tool-result"; id: string; failed: boolean; result: string }
  | { kind: "session"; cwd: string }
  | { kind: "run-ended" };
