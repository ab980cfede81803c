/**
 * The vm-agent's entry point: read the environment (config.ts, its one reader), start the daemon
 * (daemon.ts, as the tests do), exit on SIGTERM / SIGINT. Exiting detaches: agents keep running in
 * tmux for the next start to adopt.
 */
import { readDaemonEnvironment } from "./config";
import { startDaemon, type Daemon } from "./daemon";
import { createLogger, daemonLogger, stdoutSink, type Logger } from "./log";

let environment: ReturnType<typeof readDaemonEnvironment>;
try {
  environment = readDaemonEnvironment();
} catch (error) {
  // No configuration, so no configured log: this one line goes to stdout.
  createLogger(stdoutSink).error((error as Error).message);
  process.exit(1);
}

const { config, inherited } = environment;
const log: Logger = daemonLogger(config);
let daemon: Daemon;
try {
  daemon = await startDaemon({ config, inherited, log });
} catch (error) {
  log.error(`vm-agent could not start: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info("vm-agent stopping", { signal });
    void daemon.close().then(() => process.exit(0));
  });
}
