import { Inngest } from "inngest";

/**
 * The one Inngest client. Checkpointing stays off: the pinned v1.1.0 server does not know the
 * `RunComplete` opcode it sends, and a run would never complete (ARCHITECTURE.md).
 */
export const inngest = new Inngest({
  id: "agent-control-plane",
  checkpointing: false,
});
