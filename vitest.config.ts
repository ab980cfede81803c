import { defineConfig } from "vitest/config";
import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Files known to take minutes, longest first (measured on 2 cores): they start first. On a fresh
 * clone Vitest has no durations to order by, and a run whose longest file (readme-start: two
 * production builds and a person who takes their time) started late would end on it alone.
 */
const LONGEST = ["tests/integration/readme-start.test.ts", "tests/integration/followup.test.ts", "tests/chaos/warm-pool.test.ts", "tests/chaos/wakes.test.ts", "tests/integration/dev-runner.test.ts", "vm-agent/runtime.test.ts", "vm-agent/claude-code.test.ts", "vm-agent/checks.test.ts"];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = LONGEST.findIndex((name) => file.moduleId.endsWith(`/${name}`));
      return at < 0 ? LONGEST.length : at;
    };
    const group = (file: TestSpecification) => file.project.config.sequence.groupOrder;
    // Stable: the rest keep Vitest's order (by group, then durations, or sizes).
    const sorted = (await super.sort(files)).map((file, index) => ({ file, index }));
    return sorted.sort((a, b) => group(a.file) - group(b.file) || rank(a.file) - rank(b.file) || a.index - b.index).map(({ file }) => file);
  }
}

/** The unit files that need a module graph of their own (see the "unit:isolated" project). */
const OWN_MODULE_GRAPH = ["app/_server/vm-agent-install.test.ts", "app/_server/machine-install.test.ts", "app/_server/vm-agent-downloads.test.ts"];

const unitSettings = {
  // Vitest's default in a run is one worker fewer than the cores: on CI's two, one at a time.
  // The files are independent (each its own database, folders, daemon and tmux socket).
  maxWorkers: "100%",
  // One migrated database that each test's database is copied from.
  globalSetup: ["tests/harness/unit-setup.ts"],
  // Projects with their own maxWorkers run in groups of their own when several are picked at once.
  sequence: { groupOrder: 0 },
  // The vm-agent's tests start real processes and tmux sessions; under load that takes seconds.
  testTimeout: 30_000,
  // Opening an embedded PGlite database (migrations included) takes seconds on a busy machine.
  hookTimeout: 60_000,
  include: ["{lib,db,inngest,vm-agent,app,scripts}/**/*.test.ts"],
  exclude: ["**/*.integration.test.ts", "node_modules/**"],
};

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    // The files known to take minutes start first (Vitest has no durations on a fresh clone).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          ...unitSettings,
          // A worker runs its files in one module graph: each file imports only what the files before
          // it did not (the run's imports took 64 s of worker time isolated, 10 s so). What a file
          // changes in the environment is put back after it (unit-file-env.ts).
          isolate: false,
          setupFiles: ["tests/harness/unit-file-env.ts", "tests/harness/file-cleanup.ts"],
          exclude: [...unitSettings.exclude, ...OWN_MODULE_GRAPH],
        },
      },
      {
        extends: true,
        test: {
          name: "unit:isolated",
          ...unitSettings,
          // Their databases are the app's own (DATA_DIR), not copies of the template.
          globalSetup: [],
          setupFiles: ["tests/harness/file-cleanup.ts"],
          // Files that set the configuration before the app's modules load, and use the app's own
          // database and engine singletons: each in a fresh module graph.
          include: OWN_MODULE_GRAPH,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          globalSetup: ["tests/harness/global-setup.ts"],
          setupFiles: ["tests/harness/file-cleanup.ts"],
          include: ["tests/integration/**/*.test.ts", "{lib,db,inngest,vm-agent}/**/*.integration.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // Each file starts its own system; two cores run two at a time.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "chaos",
          // The run's table of every chaos file (tests/chaos/report.ts).
          globalSetup: ["tests/harness/global-setup.ts", "tests/chaos/summary.ts"],
          setupFiles: ["tests/harness/file-cleanup.ts"],
          include: ["tests/chaos/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Each file starts its own systems (the one that restarts PostgreSQL on a server of its
          // own): picked with the integration project (npm test), both share its group and its two
          // workers, the chaos files first (Vitest orders a group's projects by name).
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
