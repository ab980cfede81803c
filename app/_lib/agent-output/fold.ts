/** One agent turn's events folded into what the page shows: each tool call once, with its result. */
import type { AgentItem, LineEvent, ToolCall } from "@/lib/contracts/agents/conversation";

const NO_RESULT = "No result: the run ended before this call finished.";

/** A file subject relative to the session's working folder, which every path of the session shares. */
function relative(call: ToolCall, cwd: string | undefined): ToolCall {
  if (!cwd || !call.subjectIsFile || !call.subject.startsWith(`${cwd}/`)) return call;
  return { ...call, subject: call.subject.slice(cwd.length + 1) };
}

/** The turn's entries as they are built: calls are found by id and replaced in place. */
class TurnItems {
  readonly items: AgentItem[] = [];
  private readonly calls = new Map<string, number>();

  call(id: string): ToolCall | undefined {
    const at = this.calls.get(id);
    const item = at === undefined ? undefined : this.items[at];
    return item?.kind === "tool" ? item.call : undefined;
  }

  putCall(call: ToolCall) {
    const at = this.calls.get(call.id);
    if (at === undefined) {
      this.calls.set(call.id, this.items.length);
      this.items.push({ kind: "tool", call });
    } else {
      this.items[at] = { kind: "tool", call };
    }
  }

  /** Calls still running never got their result. */
  closeRunning() {
    for (const at of this.calls.values()) {
      const item = this.items[at];
      if (item?.kind === "tool" && item.call.status === "running") this.items[at] = { kind: "tool", call: { ...item.call, status: "failed", result: item.call.result ?? NO_RESULT } };
    }
  }
}

/**
 * `ended`: the turn is over (a later turn began, or the agent stopped working), so a call still
 * running never got its result: it is shown as failed rather than running for ever.
 */
export function foldTurn(events: Iterable<LineEvent>, { ended }: { ended: boolean }): AgentItem[] {
  const turn = new TurnItems();
  let cwd: string | undefined;
  for (const event of events) {
    switch (event.kind) {
      case "session":
        cwd = event.cwd;
        break;
      case "run-ended":
        turn.closeRunning();
        break;
      case "tool": {
        const call = relative(event.call, cwd);
        turn.putCall({ ...call, result: call.result ?? turn.call(call.id)?.result ?? null });
        break;
      }
      case "tool-result": {
        const status = event.failed ? "failed" : "ok";
        const before = turn.call(event.id);
        // A result whose call is not in this turn's output (cut off, say) is shown on its own.
        turn.putCall(before ? { ...before, status, result: event.result } : { id: event.id, name: "Tool result", subject: "", subjectIsFile: false, status, input: "", result: event.result });
        break;
      }
      case "error": {
        // Codex says a fatal error twice: as an `error` event, then in `turn.failed`.
        const last = turn.items.at(-1);
        if (last?.kind !== "error" || last.text !== event.text) turn.items.push(event);
        break;
      }
      default:
        turn.items.push(event);
    }
  }
  if (ended) turn.closeRunning();
  return turn.items;
}
