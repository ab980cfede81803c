/** Starts the app's supervisor (node monitor, reconciler) with this app's runtime; once per process. */
import { startSupervisor, type Supervisor, type SupervisorLog } from "@/lib/runs/supervisor";
import { runtime } from "./runtime";
import { log as logger } from "@/lib/log";

const globalForSupervisor = globalThis as typeof globalThis & { __supervisor?: Supervisor };

const log: SupervisorLog = (level, msg, fields) => logger[level](msg, fields);

export function ensureSupervisor(): Supervisor {
  globalForSupervisor.__supervisor ??= startSupervisor({
    runtime,
    log,
    register: async () => {
      const rt = await runtime();
      // A dev server restarted without -u has forgotten this app; the same PUT the runner sends.
      if (!rt.config.INNGEST_DEV) return;
      const response = await fetch(new URL("/api/inngest", rt.config.APP_URL), { method: "PUT", signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`PUT /api/inngest answered ${response.status}`);
    },
  });
  return globalForSupervisor.__supervisor;
}
