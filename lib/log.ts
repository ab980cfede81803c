/**
 * The control plane's log: JSON lines on stderr (stdout is the web server's and the runner's), in
 * the shape the vm-agent's log has too (lib/contracts/log.ts). Log objects, not prose: ids as
 * fields, so a line is found by the task or node it concerns.
 */
import { createLogger, jsonLines } from "./contracts/log";

export type { Logger, LogFields, LogLevel } from "./contracts/log";

export const log = createLogger(jsonLines((text) => process.stderr.write(text)));
