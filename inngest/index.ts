import { reapWarmNodes } from "./functions/reap-warm-nodes";
import { runTask } from "./functions/run-task";
import { safetyNet } from "./functions/safety-net";

/** Every function this app serves at /api/inngest. */
export const functions = [runTask, reapWarmNodes, safetyNet];
