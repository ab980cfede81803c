/** Agent output read as a conversation: each line through its CLI's reader, then folded per turn. */
import { foldTurn } from "./fold";
import { readLine } from "./read-line";
import type { AgentItem } from "./types";

export { foldTurn } from "./fold";
export { readLine } from "./read-line";
export type { AgentItem, LineEvent, ToolCall, ToolStatus } from "./types";

/** One turn's lines as entries; `ended` when the turn is over (see foldTurn). */
export const readTurn = (lines: string[], options: { ended: boolean }): AgentItem[] => foldTurn(lines.flatMap(readLine), options);
