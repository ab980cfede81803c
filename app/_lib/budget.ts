/**
 * Words and figures for budgets on the pages: an amount typed in a field, how far a task or a
 * person is into a limit, what to offer when a budget holds a task, and the settings' choices.
 */
import type { PersonBudgets, TaskBudgetView } from "@/lib/contracts/api";
import { formatUsd } from "./usage-format";

/** An amount as typed ("2.5", "$2.50", " 10 "): empty is undefined, anything but a plain decimal NaN (the contract's schema then names the problem). */
export function parseUsd(text: string): number | undefined {
  const typed = text.trim();
  if (typed === "") return undefined;
  const plain = typed.replace(/^\$\s*/, "");
  return /^(\d+(\.\d*)?|\.\d+)$/.test(plain) ? Number(plain) : Number.NaN;
}

/** An amount as a field shows it: whole dollars bare ("25"), else with its cents ("2.50"). */
export const usdInputText = (usd: number) => (Number.isInteger(usd) ? String(usd) : usd.toFixed(2));

/** A limit in words: "$2.00", or "no limit" for none (null or 0). */
export const limitText = (limitUsd: number | null) => (limitUsd ? formatUsd(limitUsd) : "no limit");

/** How far spend is into a limit: no limit, under it, near it (from 80 %), or at it (or held by a budget). */
export type BudgetLevel = "none" | "ok" | "near" | "reached";

export const NEAR_LIMIT = 0.8;

/** The share of the limit spent (0 to 1, more when over), or null without a limit. */
export const spentShare = (spentUsd: number, limitUsd: number | null) => (limitUsd ? Math.max(0, spentUsd) / limitUsd : null);

export function budgetLevel(spentUsd: number, limitUsd: number | null, paused = false): BudgetLevel {
  const share = spentShare(spentUsd, limitUsd);
  if (paused) return "reached";
  if (share === null) return "none";
  if (share >= 1) return "reached";
  return share >= NEAR_LIMIT ? "near" : "ok";
}

/** "$0.42 of $2.00", or "$0.42 spent · no limit". */
export const spentOfLimit = (spentUsd: number, limitUsd: number | null) =>
  limitUsd ? `${formatUsd(spentUsd)} of ${formatUsd(limitUsd)}` : `${formatUsd(spentUsd)} spent · no limit`;

/** What the raise form offers: double the limit (at least a dollar), doubled again until it is past what was spent. */
export function suggestedRaise(limitUsd: number | null, spentUsd: number): number {
  let next = limitUsd && limitUsd > 0 ? limitUsd * 2 : 1;
  while (next <= spentUsd) next *= 2;
  return Math.round(next * 100) / 100;
}

type PauseKind = NonNullable<TaskBudgetView["paused"]>["kind"];

/** The banner's title for what holds the task: its own budget, the person's day or month, or a budget the view does not name. */
export function pauseTitle(kind: PauseKind): string {
  switch (kind) {
    case "task":
      return "Paused: the task reached its budget";
    case "day":
      return "Paused: your spend limit for today is reached";
    case "month":
      return "Paused: your spend limit for this month is reached";
    default:
      return "Paused by a budget";
  }
}

/** "budgetUsd must be …" → "<label> must be …": the API names its field, the page its label. */
export function labelled(message: string, field: string, label: string): string {
  return message.startsWith(`${field} `) ? `${label} ${message.slice(field.length + 1)}` : message;
}

/** A person's limit per day or per month as the settings offer it: the configured default, none, or an amount of their own. */
export type LimitChoice = { mode: "default" | "none" | "amount"; amount: string };

/** The choice for a limit as stored (null: the default; 0: none). */
export function limitChoice(own: number | null): LimitChoice {
  if (own === null) return { mode: "default", amount: "" };
  if (own === 0) return { mode: "none", amount: "" };
  return { mode: "amount", amount: usdInputText(own) };
}

/** The value the API takes for a choice: null (the default), 0 (none) or the amount (NaN when it is not one; an empty one is NaN too). */
export function limitValue(choice: LimitChoice): number | null {
  if (choice.mode === "default") return null;
  if (choice.mode === "none") return 0;
  return parseUsd(choice.amount) ?? Number.NaN;
}

/** Whether two sets of limits are the same (NaN never is). */
export const sameLimits = (a: PersonBudgets, b: PersonBudgets) => a.dailyUsd === b.dailyUsd && a.monthlyUsd === b.monthlyUsd;
