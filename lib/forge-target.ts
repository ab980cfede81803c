/**
 * Which forge repository a task's repository is: an https or ssh URL on the configured GitHub
 * (GITHUB_URL, GitHub Enterprise too). Anything else (a local path, another host) has no forge,
 * so its branch is pushed and no pull request is opened. Below lib/forge/ and lib/secrets/: both
 * ask it (a pull request is opened there; a person's GitHub token goes only there).
 */
export type ForgeRepository = { forge: "github"; owner: string; name: string };

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function fromPath(pathname: string): ForgeRepository | undefined {
  const parts = pathname.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/, "").split("/");
  if (parts.length !== 2) return undefined;
  const [owner, name] = parts as [string, string];
  return NAME.test(owner) && NAME.test(name) && name !== "." && name !== ".." ? { forge: "github", owner, name } : undefined;
}

export function forgeRepositoryOf(repository: string, githubUrl: string): ForgeRepository | undefined {
  const web = new URL(githubUrl);
  // The web address may carry a path prefix (a GitHub Enterprise behind a reverse proxy).
  const prefix = web.pathname.replace(/\/+$/, "");
  const scp = /^[A-Za-z0-9_.-]+@([^:/]+):(.+)$/.exec(repository);
  if (scp) return scp[1] === web.hostname && !prefix ? fromPath(scp[2]!) : undefined;
  let url: URL;
  try {
    url = new URL(repository);
  } catch {
    return undefined;
  }
  if (url.protocol === "ssh:") return url.hostname === web.hostname && !prefix ? fromPath(url.pathname) : undefined;
  if (url.protocol !== web.protocol || url.host !== web.host || url.username || url.password) return undefined;
  if (!url.pathname.startsWith(`${prefix}/`)) return undefined;
  return fromPath(url.pathname.slice(prefix.length));
}

/**
 * The hosts a person's GitHub token may be sent to: the configured forge's (GITHUB_URL's host, with
 * its port when it has one). Nodes answer the token for a repository on these hosts only.
 */
export const forgeHosts = (githubUrl: string): string[] => [new URL(githubUrl).host];
