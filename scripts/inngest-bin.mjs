// Finds the Inngest server binary, or builds it from the Go module proxy (ARCHITECTURE.md, "The
// Inngest server on machines without internet"). Order: $INNGEST_BIN; the inngest-cli npm
// package's binary when its download worked; the cached build of the pinned v1.1.0, built here
// with its dashboard on first use. CLI: `node scripts/inngest-bin.mjs` prints the binary's path.
// See scripts/inngest-server/README.md.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const INNGEST_VERSION = "v1.1.0";
const MODULE = "github.com/inngest/inngest";
const ROOT = path.resolve(import.meta.dirname, "..");
const WRAPPER = path.join(ROOT, "scripts", "inngest-server");
const PNPM = "pnpm@8.15.8";
// Upstream's release flags (.goreleaser.yml), so `inngest version` and the dashboard show 1.1.0.
const LDFLAGS = `-s -w -X ${MODULE}/pkg/inngest/version.Version=${INNGEST_VERSION.slice(1)} -X ${MODULE}/pkg/inngest/version.Hash=goproxy`;

export function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "agent-control-plane", `inngest-${INNGEST_VERSION}`);
}

const executable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** inngest-cli ships a Node stub at bin/inngest that its postinstall overwrites with the real binary; the stub only prints an error. */
const realBinary = (file) => {
  if (!executable(file)) return false;
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  return head.toString("latin1") !== "#!";
};

const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

function exec(cmd, args, { cwd, env, log } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (d) => {
      stdout += d.toString();
      output = (output + d.toString()).slice(-20_000);
    });
    child.stderr.on("data", (d) => (output = (output + d.toString()).slice(-20_000)));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(stdout);
      log?.(output.trim().split("\n").slice(-20).join("\n"));
      reject(new Error(`\`${cmd} ${args.join(" ")}\` exited with ${code}`));
    });
  });
}

async function stage(log, name, work) {
  const started = Date.now();
  log(`  ${name}…`);
  const result = await work();
  log(`  ${name}: done in ${seconds(started)}`);
  return result;
}

function lockOwner(lock) {
  try {
    const [pid, host] = fs.readFileSync(path.join(lock, "owner"), "utf8").trim().split("@");
    return { pid: Number(pid), host };
  } catch {
    return null; // being written, or left by a process that died right after mkdir
  }
}

function ownerAlive(lock) {
  const owner = lockOwner(lock);
  if (!owner) {
    try {
      return Date.now() - fs.statSync(lock).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  if (owner.host !== os.hostname()) return true; // another machine sharing the cache: cannot tell, so wait
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/**
 * A lock folder, so two callers (parallel test workers, two terminals) never build at once: the
 * second waits for the first. The lock of a process that died is taken over.
 */
async function withLock(dir, log, work) {
  const lock = path.join(dir, ".build-lock");
  let waiting = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "owner"), `${process.pid}@${os.hostname()}`);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    if (ownerAlive(lock)) {
      if (!waiting) {
        const owner = lockOwner(lock);
        log(`Waiting for another process${owner ? ` (pid ${owner.pid})` : ""} that is building the Inngest server…`);
        waiting = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    // Stale: move it aside first, so that of two processes seeing it only one removes it.
    const aside = `${lock}.stale-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(lock, aside);
      fs.rmSync(aside, { recursive: true, force: true });
    } catch {
      // another process took it over first
    }
  }
  try {
    // Work folders of builds that were interrupted (we hold the lock, so no build is running).
    for (const entry of fs.readdirSync(dir)) {
      if (entry.startsWith("build-")) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the dashboard from the module's own UI source into a writable copy of the module, like upstream's `make build-ui`. */
async function buildDashboard(moduleDir, workDir, log) {
  const src = path.join(workDir, "inngest-src");
  await stage(log, "dashboard: copying the module source", async () => {
    fs.cpSync(moduleDir, src, { recursive: true });
    await exec("chmod", ["-R", "u+w", src], { log });
  });
  const ui = path.join(src, "ui");
  const app = path.join(ui, "apps", "dev-server-ui");
  const env = { NEXT_TELEMETRY_DISABLED: "1", CI: "1" };
  await stage(log, "dashboard: installing its packages from the npm registry (pnpm)", () =>
    exec("npx", ["-y", PNPM, "install", "--frozen-lockfile", "--ignore-scripts"], { cwd: ui, env, log }),
  );
  await stage(log, "dashboard: building it (next build)", () => exec("npx", ["-y", PNPM, "build"], { cwd: app, env, log }));
  const staticDir = path.join(src, "pkg", "devserver", "static");
  fs.mkdirSync(staticDir, { recursive: true });
  fs.cpSync(path.join(app, "dist"), staticDir, { recursive: true });
  fs.copyFileSync(path.join(app, ".next", "routes-manifest.json"), path.join(staticDir, "routes-manifest.json"));
  return src;
}

async function build(dir, target, log) {
  try {
    await exec("go", ["version"]);
  } catch {
    throw new Error(
      "Go is not on PATH: install Go (1.26 or newer) to build the Inngest server, or set INNGEST_BIN to an inngest binary",
    );
  }
  const started = Date.now();
  log(`Building the Inngest server ${INNGEST_VERSION} from the Go module proxy (first start only: about 10 minutes on 2 CPUs, less on more)…`);
  const workDir = fs.mkdtempSync(path.join(dir, "build-"));
  try {
    // Copies of the wrapper module: one builds the server as published, the other with the
    // dashboard through a `replace` that never touches the committed go.mod.
    const copyWrapper = (name) => {
      const to = path.join(workDir, name);
      fs.mkdirSync(to);
      for (const f of ["go.mod", "go.sum", "tools.go"]) fs.copyFileSync(path.join(WRAPPER, f), path.join(to, f));
      return to;
    };
    const wrapper = copyWrapper("wrapper");
    const goEnv = { CGO_ENABLED: "0" };
    const goBuild = (cwd, out, mod = []) =>
      exec("go", ["build", ...mod, "-trimpath", `-ldflags=${LDFLAGS}`, "-o", out, `${MODULE}/cmd`], { cwd, env: goEnv, log });
    const moduleDir = await stage(log, `server: downloading ${MODULE}@${INNGEST_VERSION}`, async () => {
      await exec("go", ["mod", "download", MODULE], { cwd: wrapper, env: goEnv, log });
      return (await exec("go", ["list", "-m", "-f", "{{.Dir}}", MODULE], { cwd: wrapper, env: goEnv, log })).trim();
    });

    // The server as published (no dashboard) builds while the dashboard does: it is the fallback,
    // and it fills Go's build cache, so the build with the dashboard recompiles only inngest's own packages.
    const plain = path.join(workDir, "inngest-plain");
    const plainBuild = stage(log, "server: downloading its dependencies and compiling", () => goBuild(wrapper, plain));
    const dashboard =
      process.env.INNGEST_SKIP_DASHBOARD === "1"
        ? Promise.reject(new Error("skipped: INNGEST_SKIP_DASHBOARD=1"))
        : buildDashboard(moduleDir, workDir, log);
    const [server, ui] = await Promise.allSettled([plainBuild, dashboard]);
    if (server.status === "rejected") throw server.reason;

    let binary = plain;
    let uiError = ui.reason;
    if (ui.status === "fulfilled") {
      try {
        const withUi = copyWrapper("wrapper-ui");
        await exec("go", ["mod", "edit", `-replace=${MODULE}=${ui.value}`], { cwd: withUi, log });
        const out = path.join(workDir, "inngest");
        await stage(log, "server: compiling with the dashboard", () => goBuild(withUi, out, ["-mod=mod"]));
        binary = out;
      } catch (error) {
        uiError = error;
      }
    }
    if (binary === plain) {
      log(
        `  WARNING: the dashboard could not be built (${uiError.message}). The server works, but its web UI ` +
          `(http://127.0.0.1:8288/) is missing. To retry: rm -rf ${dir} and start again.`,
      );
    }
    const version = (await exec(binary, ["version"], { log })).trim();
    fs.renameSync(binary, target); // same folder tree, so atomic: callers see no binary or a whole one
    log(`Built the Inngest server ${version}${binary === plain ? " WITHOUT its dashboard" : " with its dashboard"} in ${seconds(started)}: ${target}`);
  } finally {
    // The work folder holds the UI's node_modules (~1 GB, tens of seconds to delete): removed in the
    // background, and by the next build if that is interrupted.
    spawn("rm", ["-rf", workDir], { detached: true, stdio: "ignore" }).on("error", () => {}).unref();
  }
}

/** @returns {Promise<{ path: string, legacy: boolean }>} legacy: the pinned v1.1.0 server (see inngest/legacy-server.ts) */
export async function ensureInngestBinary({ log = (line) => console.error(line) } = {}) {
  if (process.env.INNGEST_BIN) {
    if (!executable(process.env.INNGEST_BIN)) throw new Error(`INNGEST_BIN=${process.env.INNGEST_BIN} is not an executable file`);
    return { path: process.env.INNGEST_BIN, legacy: process.env.INNGEST_LEGACY_SERVER === "1" };
  }
  const fromNpm = path.join(ROOT, "node_modules", "inngest-cli", "bin", "inngest");
  if (realBinary(fromNpm)) return { path: fromNpm, legacy: false };
  const dir = cacheDir();
  const target = path.join(dir, "inngest");
  if (executable(target)) return { path: target, legacy: true };
  fs.mkdirSync(dir, { recursive: true });
  await withLock(dir, log, async () => {
    if (!executable(target)) await build(dir, target, log);
  });
  return { path: target, legacy: true };
}

/**
 * Arguments for the local mode: no discovery or polling, a 20 ms tick, loopback only (without
 * --host it listens on all interfaces). The app registers itself (PUT /api/inngest) once it is
 * up: v1.1.0 rewrites a `-u http://127.0.0.1:…` URL to `localhost`, which may resolve to ::1
 * where the app does not listen, and then lists a second, unreachable app in its dashboard.
 */
export function inngestDevArgs({ port }) {
  return ["dev", "--no-discovery", "--no-poll", "--retry-interval", "1", "--tick", "20", "--port", String(port), "--host", "127.0.0.1"];
}

/**
 * Arguments for the self-hosted mode (`inngest start`): the same tick and loopback address, its
 * state in `sqliteDir`. The signing and event keys reach it through its environment
 * (INNGEST_SIGNING_KEY, INNGEST_EVENT_KEY, which it reads like its flags), never its argument
 * list, which anyone on the machine can read.
 */
export function inngestStartArgs({ port, sqliteDir }) {
  return ["start", "--retry-interval", "1", "--tick", "20", "--port", String(port), "--host", "127.0.0.1", "--sqlite-dir", sqliteDir];
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  ensureInngestBinary()
    .then(({ path: binary }) => console.log(binary))
    .catch((error) => {
      console.error(error.message);
      process.exit(1);
    });
}
