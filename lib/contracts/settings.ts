/**
 * How the control plane reads its environment: a setting given as "" (or only spaces), as in
 * `DATA_DIR=` in a .env file or `PORT= npm start`, means what leaving it out means. Read literally,
 * an empty DATA_DIR is the current folder and an empty PORT is 0 (any port). Every reader of a
 * setting of ours goes through here: the config schema (lib/config.ts), the vm-agent's
 * (vm-agent/config.ts) and the runner's few reads before it (scripts/dev.ts).
 */

type Env = Record<string, string | undefined>;

/** The value of a setting, or undefined when it is unset or blank. */
export function setting(name: string, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** The environment without its unset and blank entries: what a settings schema parses. */
export function givenSettings(env: Env): Record<string, string> {
  const given: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const value = setting(name, env);
    if (value !== undefined) given[name] = value;
  }
  return given;
}
