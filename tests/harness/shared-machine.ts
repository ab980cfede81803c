/**
 * Every system a test starts shares this machine with the rest of the suite (two files at a time on
 * two cores): its load, not the system's, would hold their tasks in the queue. Placement under load
 * is tested on its own (lib/nodes/selection.test.ts).
 */
export const SHARED_MACHINE_ENV = { LOCAL_NODE_LOAD_LIMITS: "false" };
