import { finishStoppedTask } from "./functions/finish-stopped-task";
import { reapWarmNodes } from "./functions/reap-warm-nodes";
import { runTask } from "./functions/run-task";

/** Every function this app serves at /api/inngest. */
export const functions = [runTask, finishStoppedTask, reapWarmNodes];
