import { periodicJobs } from "./functions/periodic-jobs";
import { runTask } from "./functions/run-task";

/** Every function this app serves at /api/inngest. */
export const functions = [runTask, periodicJobs];
