/** Agent output read as a conversation: each line through its CLI's adapter (lib/contracts/agents), then folded per turn. */
import type { AgentItem } from "@/lib/contracts/agents/conversation";
import { foldTurn } from "./fold";
import { readLine } from "./read-line";

export { foldTurn } from "./fold";
export { readLine } from "./read-line";
export type { AgentItem, LineEvent, ToolCall, ToolStatus } from "@/lib/contracts/agents/conversation";

/** One turn's lines as entries; `ended` when the turn is over (see foldTurn). */
export const readTurn = (lines: string[], options: { ended: boolean }): AgentItem[] => foldTurn(lines.flatMap(readLine), options);
