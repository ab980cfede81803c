/**
 * The tag of a test that asserts on the shared system as a whole (every task it holds): it runs
 * after the rest, alone, so another worker's tasks cannot land in between (playwright.config.ts).
 */
export const WHOLE_SHARED_SYSTEM = "@whole-shared-system";
