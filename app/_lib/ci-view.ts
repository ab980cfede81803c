/** The pull request's CI in words for its CI card (the API says the summary; the rest is said here). */
import type { TaskCiView } from "@/lib/contracts/api";
import type { CiCheck } from "@/lib/contracts/ci";

/** A check run (GitHub Actions jobs, apps) or a commit status (older integrations), as a reader knows them. */
export const CI_CHECK_KIND_LABEL: Record<CiCheck["kind"], string> = { check_run: "check run", status: "status" };

/** How a check stands in a word or two: running, or the forge's own word for how it ended ("failure", "timed out"). */
export function ciCheckOutcome(check: Pick<CiCheck, "state" | "conclusion">): string {
  if (check.state === "pending") return "running";
  return (check.conclusion ?? check.state).replaceAll("_", " ");
}

/** The check's page on the forge, only when it is a web address (a link never runs script). */
export function ciCheckLink(url: string | null): string | null {
  if (!url) return null;
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/** "1 of 2 checks running" / "2 checks": how many there are, and how many still run. */
export function ciChecksCount(checks: readonly Pick<CiCheck, "state">[]): string {
  const running = checks.filter((check) => check.state === "pending").length;
  const total = `${checks.length} ${checks.length === 1 ? "check" : "checks"}`;
  return running > 0 && running < checks.length ? `${running} of ${total} running` : total;
}

/** The failure log is open while CI fails (the agent is fixing it, or the rounds ran out), closed once it passed. */
export const ciExcerptOpen = (state: TaskCiView["state"]) => state === "fixing" || state === "failing";

