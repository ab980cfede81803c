/**
 * Chaos without the warm pool (every task boots a node): the app or the engine killed while the node
 * boots, and PostgreSQL restarted while the agent works, on a server of this file's own so the
 * databases of the files running beside it stay up. Shared settings and helpers: scenario.ts.
 */
import { restartPostgres } from "../harness/postgres";
import { chaosRun, each, killApp, killEngine, reportAfterAll, scenarios } from "./scenario";

reportAfterAll("cold-nodes");

scenarios(
  "without the warm pool (every task boots a node)",
  { NODE_WARM_TIMEOUT: "0" },
  (system, postgres) => {
    each("the app killed while the node boots", () =>
      chaosRun(system(), "app killed at node_agent_ready", { stage: "node_agent_ready", hold: "setup", kill: () => killApp(system()) }),
    );
    each("the engine killed while the node boots", () =>
      chaosRun(system(), "engine killed at node_agent_ready", { stage: "node_agent_ready", hold: "setup", kill: () => killEngine(system()) }),
    );
    each("PostgreSQL restarted while the agent works", () =>
      chaosRun(system(), "PostgreSQL restarted at running", {
        stage: "running",
        hold: "agent",
        kill: async () => restartPostgres(postgres().dataDir),
      }),
    );
  },
  { ownPostgres: true },
);
