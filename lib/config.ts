import { z } from "zod";
import { durationField } from "./contracts/duration";
import { cidrList, isLoopbackAddress, isLoopbackHost } from "./net";
import { parseKeyRing } from "./envelope";
import { ModelName } from "./contracts/vm-agent";
import { MODEL_KEY_NAMES, MODEL_SETTINGS, shapeOf } from "./contracts/agents";
import { DEFAULT_EGRESS_POLICY, EgressHost, EgressPolicy, EgressPrivateRange } from "./contracts/egress";
import { givenSettings } from "./contracts/settings";
import { DEFAULT_PRICE_TABLE, ModelPriceEntry, priceTable } from "./usage/pricing";

/*
 * The kinds of value a setting takes. Each refuses what it cannot read with what it takes, so a bad
 * value stops the start with e.g. "TASK_QUEUE_TIMEOUT: must be a duration such as 30s, 15m…"
 * (durations: lib/contracts/duration.ts). Blank values never get here: they are unset (lib/contracts/settings.ts).
 */

const TRUE_WORDS = ["1", "true", "yes"] as const;
const FALSE_WORDS = ["0", "false", "no"] as const;
/** 1, 0, true, false, yes or no, in any case. */
const flag = z
  .preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() : value),
    z.enum([...TRUE_WORDS, ...FALSE_WORDS], { error: "must be 1, 0, true, false, yes or no" }),
  )
  .transform((word) => (TRUE_WORDS as readonly string[]).includes(word));
const bool = (defaultValue: boolean) => flag.optional().transform((value) => value ?? defaultValue);

/** A number given as digits only: "1.5" (for a whole number), "1e3", "0x10" and "-1" are refused rather than read as something else. */
const numberFrom = (whole: boolean, takes: string, min: number, max: number) => {
  const error = `must be ${takes}`;
  const number = z.number({ error }).min(min, { error }).max(max, { error });
  return z.preprocess(
    (value) => (typeof value === "string" && (whole ? /^\d+$/ : /^\d+(\.\d+)?$/).test(value.trim()) ? Number(value) : value),
    whole ? number.int({ error }) : number,
  );
};
/** A comma- or space-separated list, each entry read by `entry` (a contract's schema), whose message names the entry it refuses. */
const listParsed = <T>(entry: z.ZodType<T, string>) =>
  z.string().transform((text, ctx) => {
    const entries: T[] = [];
    for (const word of text.split(/[\s,]+/).filter(Boolean)) {
      const parsed = entry.safeParse(word);
      if (parsed.success) entries.push(parsed.data);
      else ctx.addIssue({ code: "custom", message: `${JSON.stringify(word)} ${parsed.error.issues[0]?.message ?? "is refused"}` });
    }
    return entries;
  });

/** The package registries a workspace's allow-list admits until its person lists their own hosts in settings. */
export const DEFAULT_REGISTRY_HOSTS = ["registry.npmjs.org", "registry.yarnpkg.com", "pypi.org", "files.pythonhosted.org", "proxy.golang.org", "sum.golang.org", "index.crates.io", "static.crates.io", "rubygems.org", "repo.maven.apache.org"];

/** A comma- or space-separated list (an environment setting), each entry matching `pattern`; the result is the list. */
const listOf = (pattern: RegExp, what: string, normalise: (entry: string) => string = (entry) => entry) =>
  z.string().transform((text, ctx) => {
    const entries = text.split(/[\s,]+/).filter(Boolean);
    for (const entry of entries) if (!pattern.test(entry)) ctx.addIssue({ code: "custom", message: `${JSON.stringify(entry)} is not ${what}` });
    return entries.map(normalise);
  });

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER, what = "a whole number") =>
  numberFrom(true, max === Number.MAX_SAFE_INTEGER ? `${what} of at least ${min}` : `${what} from ${min} to ${max}`, min, max);
const int = (defaultValue: number, min = 0, max?: number) => wholeNumber(min, max).default(defaultValue);
const port = (defaultValue: number) => wholeNumber(1, 65_535, "a port number").default(defaultValue);
const percent = (defaultValue: number) => numberFrom(false, "a percentage from 0 to 100", 0, 100).default(defaultValue);

/** US dollars, such as 2 or 2.50; 0 is no limit. */
const dollars = (defaultValue: number) => numberFrom(false, "an amount of US dollars, such as 2.50 (0: no limit)", 0, 1_000_000).default(defaultValue);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(", ")}` });
/** A folder named from the root (`/opt/…`): a relative one would depend on where the system was started. */
const absolutePath = () => z.string().regex(/^\/[^\0]*$/, "must be an absolute path, such as /opt/agent-control-plane/local");
const url = () => z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/**
 * Every setting of the control plane, read once from the environment and validated.
 * Defaults are the starting values carried over from the seeds' system (ARCHITECTURE.md, "Configuration").
 */
export const ConfigSchema = z.object({
  /**
   * `local`: one user, no sign-in; the loopback address is the boundary (the app binds only to it
   * and answers only to localhost). `team`: accounts and sign-in, for a control plane on a network.
   */
  AUTH_MODE: oneOf(["local", "team"]).default("local"),
  /** Team mode: signs sessions and encrypts stored OAuth tokens (at least 32 characters; keep it secret and stable). */
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Team mode: the GitHub OAuth app people sign in with (its callback URL is APP_URL/api/auth/callback/github). */
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  /**
   * Team mode: who may sign in with GitHub, besides people an admin invited (Settings, or `npm run
   * admin -- invite --email …`). Comma- or space-separated: organisations (`acme`) or teams
   * (`acme/platform`, the team's slug) whose members may (read from GitHub with the person's token,
   * scope read:org), and email addresses (a verified address of the person's GitHub account). None
   * of them, no invitation and no admin: every sign-in is refused, saying how to let people in.
   */
  AUTH_ALLOWED_ORGS: listOf(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9_.-]{1,100})?$/, "a GitHub organisation (acme) or team (acme/platform)").default([]),
  AUTH_ALLOWED_TEAMS: listOf(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9_.-]{1,100}$/, "a GitHub team as org/team-slug (acme/platform)").default([]),
  AUTH_ALLOWED_EMAILS: listOf(/^[^\s@,]+@[^\s@,]+$/, "an email address", (entry) => entry.toLowerCase()).default([]),
  /** Team mode: sign-ins one address may start per 10 seconds (better-auth's limit; more are answered 429). */
  SIGN_IN_RATE_LIMIT: int(3, 1),
  /** GitHub's web and API addresses (GitHub Enterprise Server: https://HOST and https://HOST/api/v3). */
  GITHUB_URL: url().default("https://github.com"),
  GITHUB_API_URL: url().default("https://api.github.com"),
  /** A workspace's way out when its person has not chosen one (lib/contracts/egress.ts): none, allow-list or full. */
  EGRESS_POLICY: oneOf(["none", "allow-list", "full"] as const satisfies readonly EgressPolicy[]).default(DEFAULT_EGRESS_POLICY),
  /** The hosts an allow-list admits (besides the repository's forge and the agent's model API) until a person saves their own in settings. */
  EGRESS_ALLOW_HOSTS: listParsed(EgressHost).default(DEFAULT_REGISTRY_HOSTS),
  /** Private addresses or ranges (10.0.0.5, 10.1.0.0/16) workspaces may reach until a person saves their own; loopback and link-local never. */
  EGRESS_ALLOW_PRIVATE: listParsed(EgressPrivateRange).default([]),
  /** How long one call to the forge's API (GitHub's) may take. */
  FORGE_REQUEST_TIMEOUT: durationField("20s"),
  /** A pull-request call that failed for a while (5xx, no answer, rate limit) is tried this many times before the error is shown. */
  FORGE_RETRIES: int(5, 0),
  /** The first wait before such a retry; each next one doubles. */
  FORGE_RETRY_BACKOFF: durationField("5s"),
  /** A task's pull request stays a draft while its checks fail and is marked ready for review once they pass (no checks declared: it stays a draft). */
  PR_READY_WHEN_GREEN: bool(true),
  /**
   * After a turn pushes to an open pull request, the run watches the commit's CI (GitHub's check
   * runs and statuses) before it waits for a follow-up: a failure goes back to the agent with its
   * log's end (up to MAX_CI_ROUNDS), and the task is not completed while CI runs unless the person
   * finishes it. Off: CI is not looked at.
   */
  CI_WATCH: bool(true),
  /** How long a commit's CI is waited for; still pending then, the run goes on and the page says so. */
  CI_WAIT_TIMEOUT: durationField("1h"),
  /** The first look at CI after this long; the gap doubles up to CI_POLL_MAX. A webhook (GITHUB_WEBHOOK_SECRET) wakes the run at once. */
  CI_POLL_INTERVAL: durationField("30s"),
  CI_POLL_MAX: durationField("3m"),
  /** A commit with no checks yet is not taken for one without CI until this long after its push: a forge queues its CI runs a little after the push. */
  CI_START_GRACE: durationField("1m"),
  /** Turns in a row whose failing CI gets a follow-up from the system asking the agent to fix it; then the task waits for the person (0: never). */
  MAX_CI_ROUNDS: int(3, 0, 20),
  /** The secret GitHub signs its webhooks with (X-Hub-Signature-256): set, POST /api/webhooks/github takes check_run, check_suite, workflow_run and status events. */
  GITHUB_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /** How often open pull requests' states are read again (merged or closed on GitHub); 0: never. */
  PULL_REQUEST_REFRESH_INTERVAL: durationField("5m"),
  /** A rate limit that resets later than this is shown as the error instead of waited out. */
  FORGE_RATE_LIMIT_MAX_WAIT: durationField("30m"),
  /**
   * Keys that encrypt people's stored secrets: `id:base64(32 bytes)[,id:…]`, the first wraps new
   * secrets. Required in team mode; unset in local mode, a key file is made in DATA_DIR.
   */
  SECRETS_KEYS: z.string().min(1).optional(),
  /** Local mode: the one user's model keys (ANTHROPIC_API_KEY, OPENAI_API_KEY: each agent's, lib/contracts/agents) when they have stored none (team mode: each person stores their own). */
  ...shapeOf(MODEL_KEY_NAMES, z.string().min(1).optional()),
  /** How long a browser stays signed in without coming back. */
  SESSION_TTL: durationField("7d"),
  /** Local mode: how long a one-time sign-in link (`npm start` prints one) may be opened, once. */
  LOCAL_SIGN_IN_TTL: durationField("1h"),
  /** The address the app listens on. Local mode allows only a loopback address. */
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, "must be an IP address or a host name (e.g. 127.0.0.1)")
    .default("127.0.0.1"),
  /** The runner's (`npm start`, `npm run dev`) port for the app and for the Inngest server. */
  PORT: port(3000),
  INNGEST_PORT: port(8288),
  /**
   * Where the vm-agent reaches this app (callbacks) and where Inngest reaches `/api/inngest`. Must be
   * https:// for nodes on other machines (lib/nodes/lifecycle.ts; their daemons refuse plain http too).
   */
  APP_URL: url().default("http://127.0.0.1:3000"),
  /** Unset: embedded PGlite under DATA_DIR. A postgres:// URL: Neon's serverless driver. */
  DATABASE_URL: z.string().optional(),
  /** The same database without a connection pooler in between (Neon: the host without `-pooler`), for LISTEN and the migrations' lock; default DATABASE_URL. */
  DATABASE_DIRECT_URL: z.string().optional(),
  /**
   * The control plane's own folder: missing, empty, or one it made (marked with .acp-data-dir); any
   * other folder is refused at start, untouched. Made 0711, what it makes in it owner-only but the
   * local nodes' work folders (lib/data-dir.ts).
   */
  DATA_DIR: z.string().default(".data"),
  /** Only for a plain PostgreSQL behind a WebSocket relay (tests, self-hosting without Neon). */
  DATABASE_WS_PROXY: z.string().optional(),

  /** The pinned v1.1.0 server does not know the SDK's `StepFailed` opcode (see inngest/legacy-server.ts). */
  INNGEST_LEGACY_SERVER: bool(true),
  /** The SDK's checkpointing; unset: on exactly when the engine is not the legacy one (see inngest/client.ts). */
  INNGEST_CHECKPOINTING: flag.optional(),
  /** The engine's URL, as the SDK reads it; unset follows INNGEST_DEV (a URL, or :8288) or Inngest Cloud. */
  INNGEST_BASE_URL: url().optional(),
  INNGEST_DEV: z.string().optional(),
  /** Self-hosted or cloud engines authenticate API calls with it. */
  INNGEST_SIGNING_KEY: z.string().optional(),
  /** The key the app sends events with, to a self-hosted or cloud engine. */
  INNGEST_EVENT_KEY: z.string().optional(),
  /**
   * Which engine the runner (`npm start`, `npm run dev`) starts: `dev`, the in-memory dev server of
   * the embedded default; `self-hosted`, `inngest start`, which signs its calls to the app and
   * checks the app's (INNGEST_SIGNING_KEY, INNGEST_EVENT_KEY; made once and kept in DATA_DIR when
   * unset) and keeps its state in DATA_DIR/engine.
   */
  ENGINE_MODE: oneOf(["dev", "self-hosted"]).default("dev"),
  /** How long one call to the engine's API may take. */
  ENGINE_REQUEST_TIMEOUT: durationField("5s"),

  /**
   * The runner's crash-loop backoff for the app and the engine: the first restart is at once, each
   * crash within RESTART_STABLE_AFTER of the last start doubles the wait from 1 s up to this.
   */
  RESTART_BACKOFF_MAX: durationField("30s"),
  RESTART_STABLE_AFTER: durationField("60s"),
  /**
   * Whether the Inngest cron also runs the in-process supervisor's periodic jobs (lib/runs/jobs.ts),
   * each at its interval: needed on a serverless host, where no process lives between requests to
   * run the supervisor's loop. Unset: on exactly when VERCEL is set.
   */
  SUPERVISOR_CRON: flag.optional(),
  /** Set by Vercel on its hosts (serverless): SUPERVISOR_CRON follows it. */
  VERCEL: z.string().optional(),
  /** The reconciler's pass: tasks whose run the engine lost are re-driven. */
  RECONCILE_INTERVAL: durationField("30s"),
  /** A run that cannot be confirmed alive counts as lost this long after it was dispatched. */
  RECONCILE_GRACE: durationField("30s"),
  /** A task re-driven this many times without ending is failed with the reason. */
  MAX_REDRIVES: int(5, 1),
  /**
   * A run the engine calls alive but that has not looked at its agent's end this long after it
   * (woken again and again meanwhile) is stalled: a restarted self-hosted engine restores runs it
   * never resumes. It is re-driven like a lost one.
   */
  RUN_STALL_AFTER: durationField("2m"),
  /**
   * The longest one step of a run may take. Each step promises the run calls again within it
   * (a wait promises its slice instead); a run RUN_STALL_AFTER past its promise is re-driven.
   */
  RUN_STEP_MAX: durationField("2m"),
  /** How often the node monitor looks at nodes (local processes, heartbeat ages, probes). */
  NODE_MONITOR_INTERVAL: durationField("2s"),
  /** How long a health probe (GET /health) may take before the node counts as not answering. */
  NODE_HEALTH_PROBE_TIMEOUT: durationField("2s"),
  /** A node that has not answered for this long is lost: its tasks go on elsewhere or fail. */
  NODE_LOST_AFTER: durationField("60s"),
  /**
   * Where a root control plane installs the node runtime its local nodes run from (the packed Node,
   * the bundled vm-agent, the agent CLIs), so each workspace's user can run them wherever the
   * checkout is; unset: /opt/agent-control-plane/local (lib/nodes/artifacts/local-install.ts). Every
   * folder on the way must let other users pass.
   */
  LOCAL_NODE_RUNTIME_DIR: absolutePath().optional(),
  /**
   * Where a root control plane puts its local nodes' work folders (their workspaces) when
   * workspace users could not reach them in DATA_DIR (a checkout under /root or another closed
   * folder); unset: /var/lib/agent-control-plane-work. Every folder on the way must let other users pass.
   */
  LOCAL_NODE_WORK_ROOT: absolutePath().optional(),
  /** How long deleting the Unix users of a local node whose folder is removed may take (the purge is tried again later). */
  NODE_USERS_PURGE_TIMEOUT: durationField("30s"),
  /** A local node's daemon is restarted at most this many times per NODE_RESTART_WINDOW. */
  NODE_RESTART_LIMIT: int(3, 0),
  NODE_RESTART_WINDOW: durationField("10m"),
  /** How many nodes one task may try before it fails (a node lost before its agent started costs a try). */
  MAX_PLACEMENT_ATTEMPTS: int(3, 1),
  /** How long a task may wait in the queue for a free slot when every node is full and the quota is reached. */
  TASK_QUEUE_TIMEOUT: durationField("24h"),
  /** A task whose step runs this much longer than the step's own limit counts as stuck. */
  STUCK_MARGIN: durationField("5m"),
  /** Worktrees of failed and cancelled tasks (and stopped nodes' folders) are kept this long for inspection. */
  WORKSPACE_RETENTION: durationField("24h"),
  /** Live events and callback receipts older than this are pruned. */
  EVENT_RETENTION: durationField("7d"),
  /**
   * How long an ended task keeps its agent output (every attempt's, check lines included; the
   * database compresses it, and TASK_OUTPUT_MAX_BYTES bounds it); 0: for the task's whole life.
   */
  OUTPUT_RETENTION: durationField("0"),
  /**
   * A workspace folder or tmux session on a node that belongs to no task (lib/recovery/orphans.ts) is
   * reported at once, and removed when it is still there this long after (never a held workspace,
   * never work that is not pushed).
   */
  ORPHAN_GRACE: durationField("30m"),
  /** How often the supervisor removes what is past its retention. */
  RETENTION_SWEEP_INTERVAL: durationField("10m"),
  /** A cleanup that started this long ago and did not finish may be taken over. */
  CLEANUP_LEASE: durationField("2m"),

  /** Who creates new nodes: `local` (a vm-agent process on this machine) or `hetzner` (a Hetzner Cloud server per node, with each owner's HETZNER_TOKEN). */
  NODE_PROVIDER: oneOf(["local", "hetzner"]).default("local"),
  /** The port a cloud node's vm-agent serves HTTPS on; the node's firewall admits only CONTROL_PLANE_SOURCE_IPS to it. */
  NODE_AGENT_PORT: port(8443),
  /**
   * The addresses cloud nodes see the control plane's calls come from, as CIDRs (`203.0.113.7/32,
   * 2001:db8::/64`): their firewall admits only these to NODE_AGENT_PORT. Required with NODE_PROVIDER=hetzner.
   */
  CONTROL_PLANE_SOURCE_IPS: cidrList.optional(),
  /** A provider that failed for a while (5xx, rate limit, no answer) while creating a node is tried this many more times before the task fails. */
  NODE_PROVISIONING_RETRIES: int(5, 0),
  /** The first wait before such a retry when the provider did not say how long; each next one doubles. */
  NODE_PROVISIONING_RETRY_BACKOFF: durationField("10s"),
  /** Hetzner Cloud's API (a local double in tests). */
  HETZNER_API_URL: url().default("https://api.hetzner.cloud/v1"),
  /** Where new Hetzner servers are created (fsn1, nbg1, hel1, ash, hil, sin). */
  HETZNER_LOCATION: z.string().regex(/^[a-z0-9-]{2,32}$/, "must be a Hetzner location name such as fsn1").default("fsn1"),
  /** The image new Hetzner servers boot; its cloud-init runs the node's user data. */
  HETZNER_IMAGE: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be a Hetzner image name such as ubuntu-24.04").default("ubuntu-24.04"),
  /** The server type of every new Hetzner node (nodes have one size). */
  HETZNER_SERVER_TYPE: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "must be a Hetzner server type such as cx22").default("cx22"),
  /** How long one call to Hetzner's API may take. */
  /** Where a Hetzner server reads its public IPv4 at boot (its metadata service), which its daemon reports. */
  HETZNER_METADATA_URL: url().default("http://169.254.169.254/hetzner/v1/metadata/public-ipv4"),
  HETZNER_REQUEST_TIMEOUT: durationField("30s"),
  BRANCH_PREFIX: z.string().regex(/^[a-z0-9][a-z0-9._/-]*\/$/, "must end with / (e.g. agents/)").default("agents/"),
  BRANCH_NAME_MAX: int(60, 20),

  NODE_PROVISIONING_TIMEOUT: durationField("30m"),
  /** A node still `creating` this long is probed; if it answers, it is ready even though its ready callback was lost. */
  NODE_READY_PROBE_AFTER: durationField("10s"),
  NODE_AGENT_READY_TIMEOUT: durationField("15m"),
  WORKSPACE_READY_TIMEOUT: durationField("30m"),
  AGENT_MAX_EXECUTION: durationField("4h"),
  /** The model each agent's task uses when its submission names none (CLAUDE_CODE_MODEL, CODEX_MODEL: each agent's, lib/contracts/agents); unset: the CLI's default. */
  ...shapeOf(MODEL_SETTINGS, ModelName.optional()),
  /**
   * Dollars per million tokens of each model, for agents whose CLI reports tokens but no price
   * (Codex): `model=input/cachedInput/output[/cacheWrite]`, comma-separated; replaces the built-in
   * list of OpenAI's published prices (lib/usage/pricing.ts). A model it does not know is unpriced.
   */
  MODEL_PRICES: listParsed(ModelPriceEntry).transform(priceTable).default(DEFAULT_PRICE_TABLE),
  SESSION_IDLE_TIMEOUT: durationField("15m"),
  /**
   * Spend limits (lib/budgets/): a task's budget unless one is given at submit, and each person's per
   * day and per month (UTC; a person may set their own in settings). When a turn crosses one, the
   * agent is interrupted as a person would, its work is committed and pushed, and the task waits for
   * the person; no turn, check round or CI round starts past a budget. 0: no limit.
   */
  TASK_BUDGET_USD: dollars(10),
  USER_DAILY_BUDGET_USD: dollars(0),
  USER_MONTHLY_BUDGET_USD: dollars(0),
  /** Turns in a row whose failing checks get a follow-up from the system asking the agent to fix them; then the task waits for the person (0: never). */
  MAX_CHECK_ROUNDS: int(3, 0, 20),
  /**
   * The race rule: waits re-check the database after slices that start at READY_RECHECK_INTERVAL
   * and double up to READY_RECHECK_MAX (or a hundredth of the whole wait, if longer), so a 4 h
   * wait has about 50 slices, each a step per event it listens for and one check (inngest/wait-for.ts).
   * A slice only matters when a wake event was lost.
   */
  READY_RECHECK_INTERVAL: durationField("30s"),
  READY_RECHECK_MAX: durationField("5m"),
  /**
   * Wakes are coalesced: while one sent to a task's run has not been looked at, others of the same
   * event for the same task are not sent (the run's look reads what they announce). A wake
   * unanswered this long is taken for lost, and the next one is sent.
   */
  WAKE_RESEND_AFTER: durationField("5s"),
  NODE_WARM_TIMEOUT: durationField("30m"),
  MAX_AUTO_NODE_LIFETIME: durationField("4h"),
  HEARTBEAT_STALE_AFTER: durationField("180s"),
  /** Where the vm-agent archive and the packed Node that nodes download are built; unset: $XDG_CACHE_HOME (or ~/.cache)/agent-control-plane. */
  VM_AGENT_CACHE_DIR: z.string().min(1).optional(),
  /** How long the control plane waits for one HTTP call to a vm-agent. */
  VM_AGENT_REQUEST_TIMEOUT: durationField("15s"),

  MAX_WORKSPACES_PER_NODE: int(3, 1),
  MAX_NODES_PER_USER: int(10, 1),
  /**
   * A queued task woken for a free slot that has not looked again this long after is woken again
   * (a wake the engine lost); the supervisor wakes queued tasks whenever slots are free.
   */
  QUEUE_WAKE_RETRY: durationField("15s"),
  /** Team mode: unfinished tasks one person may have at once; more are refused (429) at submit. */
  MAX_ACTIVE_TASKS_PER_USER: int(50, 1),
  /** Team mode: tasks one person may submit or retry per minute; more are refused (429 with Retry-After). */
  MAX_TASK_SUBMISSIONS_PER_MINUTE: int(60, 1),
  /** Team mode: follow-up messages one person may send per minute, over all their tasks (429 with Retry-After past it). */
  MAX_FOLLOWUPS_PER_MINUTE: int(30, 1),
  /** A running node whose CPU or memory reading is at or over its threshold gets no new work; 100 is no limit. */
  NODE_CPU_THRESHOLD: percent(80),
  NODE_MEMORY_THRESHOLD: percent(85),
  /**
   * Whether local nodes (daemons on this machine) are held to NODE_CPU_THRESHOLD and
   * NODE_MEMORY_THRESHOLD too. They share this machine, so its load is every one's: while one is over
   * a threshold none gets new work and no new one is started (it would add no room); tasks wait in
   * the queue until the load drops. Off: this machine's load does not steer local placement.
   */
  LOCAL_NODE_LOAD_LIMITS: bool(true),

  /** The largest request body a person's request may have (bytes); larger ones are refused (413) unread. */
  MAX_REQUEST_BODY_BYTES: int(1024 * 1024, 1024),
  /** The same for a vm-agent's callbacks, whose output batches are larger. */
  MAX_CALLBACK_BODY_BYTES: int(4 * 1024 * 1024, 1024),

  /**
   * Downloads of the vm-agent, its installer and Node (/api/vm-agent/*) one address may fetch a
   * minute; more are refused (429 with Retry-After). An install fetches at most four.
   */
  VM_AGENT_DOWNLOADS_PER_MINUTE: int(60, 1),

  /**
   * The agent output one task keeps (bytes as stored, every attempt together): past it the oldest
   * batches are removed, and the page and the download say how many lines and bytes went.
   */
  TASK_OUTPUT_MAX_BYTES: int(64 * 1024 * 1024, 1024),
  /** The most bytes of agent output one task view (a page load, a live snapshot) reads: its newest lines up to this. */
  TASK_VIEW_OUTPUT_MAX_BYTES: int(1024 * 1024, 1024),
  /** The most bytes of agent output one page of `GET /api/tasks/{id}/output` (and of the download, per read) carries. */
  OUTPUT_PAGE_MAX_BYTES: int(2 * 1024 * 1024, 1024),
  /** The most bytes of setup output one task view reads from the boot log: its newest lines up to this. */
  BOOT_LOG_VIEW_MAX_BYTES: int(512 * 1024, 1024),
  /** Live streams (server-sent events) one person may have open at once on an app instance; more are refused (429). */
  MAX_LIVE_STREAMS_PER_USER: int(32, 1),

  /** How often an idle live stream sends a comment, so proxies keep it open. */
  LIVE_KEEPALIVE_INTERVAL: durationField("15s"),

  CALLBACK_TOKEN_TTL: durationField("24h"),
  /**
   * How long a cloud node's one-time enrollment token may be exchanged for its callback token after
   * its machine was asked for: the user data that carries it stays readable on the machine, so it
   * must not work for ever. The default covers NODE_PROVISIONING_TIMEOUT and NODE_AGENT_READY_TIMEOUT
   * (30m + 15m): a node whose installer has not enrolled by then is lost anyway.
   */
  NODE_ENROLLMENT_TTL: durationField("45m"),
  /** How long the install command for a machine someone owns may be used (once) after it was made. */
  MACHINE_REGISTRATION_TTL: durationField("1h"),
  /**
   * How long a registered machine's node token lasts: the machine is the person's, kept for as long
   * as they like, not a node the control plane retires after MAX_AUTO_NODE_LIFETIME. Removing the
   * machine ends it earlier (a removed node's callbacks are refused).
   */
  MACHINE_CALLBACK_TOKEN_TTL: durationField("365d"),
  NODE_MANAGEMENT_TOKEN_TTL: durationField("5m"),

  /** Retries Inngest gives each step before it fails for good. */
  STEP_RETRIES: int(3, 0, 20),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Whether the app takes the engine's calls unsigned (the SDK's dev mode: INNGEST_DEV set to anything but a false word). */
export const devEngine = (config: Pick<Config, "INNGEST_DEV">) =>
  config.INNGEST_DEV !== undefined && !(FALSE_WORDS as readonly string[]).includes(config.INNGEST_DEV.trim().toLowerCase());

/** Settings that are wrong only together. */
function checkCombinations(config: Config): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  if (config.AUTH_MODE === "local" && !isLoopbackAddress(config.HOST)) {
    issues.push({
      code: "custom",
      path: ["HOST"],
      message: `local mode is for the one person on this machine, so it listens only on a loopback address, not ${config.HOST}; to serve a network, set AUTH_MODE=team (sign-in with GitHub, see the README)`,
      input: config.HOST,
    });
  }
  if (config.AUTH_MODE === "team") {
    for (const name of ["AUTH_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "SECRETS_KEYS"] as const) {
      if (!config[name]) issues.push({ code: "custom", path: [name], message: "is required in team mode (sign-in with GitHub; see the README)", input: undefined });
    }
  }
  if (config.NODE_PROVIDER === "hetzner" && !config.CONTROL_PLANE_SOURCE_IPS?.length) {
    issues.push({
      code: "custom",
      path: ["CONTROL_PLANE_SOURCE_IPS"],
      message: "is required with NODE_PROVIDER=hetzner: the addresses (CIDRs) this control plane calls its nodes from, the only ones their firewall admits to NODE_AGENT_PORT",
      input: undefined,
    });
  }
  if (config.NODE_PROVIDER === "hetzner" && !config.APP_URL.startsWith("https://")) {
    issues.push({
      code: "custom",
      path: ["APP_URL"],
      message: "must be https:// with NODE_PROVIDER=hetzner: cloud nodes send their callbacks and download the vm-agent across the network, over TLS only",
      input: config.APP_URL,
    });
  }
  if (config.SECRETS_KEYS) {
    try {
      parseKeyRing(config.SECRETS_KEYS);
    } catch (error) {
      issues.push({ code: "custom", path: ["SECRETS_KEYS"], message: (error as Error).message, input: "(hidden)" });
    }
  }
  if (config.AUTH_MODE === "team" && devEngine(config) && !(isLoopbackAddress(config.HOST) && isLoopbackHost(new URL(config.APP_URL).host))) {
    // A dev engine does not sign its calls, so /api/inngest would run steps for anyone who reaches
    // it; a reverse proxy in front may send any Host, so only a signing engine keeps it closed.
    issues.push({
      code: "custom",
      path: ["INNGEST_DEV"],
      message:
        "team mode on a network needs an engine that signs its calls (INNGEST_SIGNING_KEY with `inngest start`, ENGINE_MODE=self-hosted, INNGEST_DEV unset); a dev engine's calls are unsigned",
      input: config.INNGEST_DEV,
    });
  }
  return issues;
}

export class ConfigError extends Error {
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
}

/** Validates an environment; throws ConfigError naming every bad variable. A blank variable counts as unset (lib/contracts/settings.ts). */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(givenSettings(env));
  if (!result.success) throw new ConfigError(result.error.issues);
  const combined = checkCombinations(result.data);
  if (combined.length) throw new ConfigError(combined);
  return result.data;
}

let cached: Config | undefined;

/** The process's configuration, validated on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
