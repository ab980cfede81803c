import { Inngest } from "inngest";
import { config } from "@/lib/config";

/**
 * The one Inngest client. Checkpointing is off for the pinned v1.1.0 server (INNGEST_LEGACY_SERVER,
 * the default): it does not know the `RunComplete` opcode checkpointing sends, and a run would never
 * complete (ARCHITECTURE.md). A current engine (Inngest Cloud, a newer `inngest start`) gets it back
 * with INNGEST_LEGACY_SERVER=0, or set INNGEST_CHECKPOINTING explicitly.
 */
const settings = config();
export const inngest = new Inngest({
  id: "agent-control-plane",
  checkpointing: settings.INNGEST_CHECKPOINTING ?? !settings.INNGEST_LEGACY_SERVER,
});
