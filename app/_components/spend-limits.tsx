"use client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { BudgetUsd, type PersonBudgets, type PersonBudgetsView } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { labelled, limitChoice, limitText, limitValue, sameLimits, type LimitChoice } from "../_lib/budget";
import { useBudgetSettings, useSaveBudgetSettings } from "../_lib/queries";
import { BudgetMeter } from "./budget-meter";
import { ErrorBanner } from "./error-banner";
import styles from "./spend-limits.module.css";

type Period = "day" | "month";
/** The field of each period in the API, its name in an error, and the words around it. */
const PERIODS = {
  day: { field: "dailyUsd", name: "The daily limit", legend: "Per day", spent: "Spent today", spentKey: "spentTodayUsd" },
  month: { field: "monthlyUsd", name: "The monthly limit", legend: "Per month", spent: "Spent this month", spentKey: "spentThisMonthUsd" },
} as const satisfies Record<Period, { field: keyof PersonBudgets; name: string; legend: string; spent: string; spentKey: keyof PersonBudgetsView }>;
const MODES: { mode: LimitChoice["mode"]; label: (defaultUsd: number) => string }[] = [
  { mode: "default", label: (defaultUsd) => `Default (${limitText(defaultUsd)})` },
  { mode: "none", label: () => "No limit" },
  { mode: "amount", label: () => "Amount" },
];

type Draft = Record<Period, LimitChoice>;
export type BudgetDefaults = { dailyUsd: number; monthlyUsd: number };

const draftOf = (view: PersonBudgetsView): Draft => ({ day: limitChoice(view.own.dailyUsd), month: limitChoice(view.own.monthlyUsd) });
const valuesOf = (draft: Draft): PersonBudgets => ({ dailyUsd: limitValue(draft.day), monthlyUsd: limitValue(draft.month) });
const errorId = (period: Period) => `spend-limit-${period}-error`;

/** The first limit the contract refuses, in its words ("The daily limit must be in whole cents"). */
function draftProblem(values: PersonBudgets): { period: Period; message: string } | undefined {
  for (const period of ["day", "month"] as const) {
    const checked = BudgetUsd.nullable().safeParse(values[PERIODS[period].field]);
    if (!checked.success) return { period, message: `${PERIODS[period].name} ${checked.error.issues[0]?.message ?? "is not an amount"}` };
  }
  return undefined;
}

function LimitField({ period, choice, onChange, defaultUsd, inForceUsd, spentUsd, error }: {
  period: Period;
  choice: LimitChoice;
  onChange: (choice: LimitChoice) => void;
  defaultUsd: number;
  inForceUsd: number;
  spentUsd: number;
  error?: string;
}) {
  const { legend, spent } = PERIODS[period];
  const amountId = `spend-limit-${period}-amount`;
  return (
    <fieldset className={styles.limit} data-testid={`spend-limit-${period}`} {...(error ? { "aria-invalid": true, "aria-describedby": errorId(period) } : {})}>
      <legend>{legend}</legend>
      <BudgetMeter label={spent} spentUsd={spentUsd} limitUsd={inForceUsd || null} testId={`spend-limit-${period}-spent`} />
      <div className={styles.choices}>
        {MODES.map(({ mode, label }) => (
          <label key={mode} className={styles.choice} data-on={choice.mode === mode || undefined}>
            <input type="radio" name={`spend-limit-${period}`} value={mode} checked={choice.mode === mode} onChange={() => onChange({ ...choice, mode })} />
            {label(defaultUsd)}
          </label>
        ))}
        <span className={`field ${styles.amount}`}>
          <span className={styles.dollar} aria-hidden="true">
            $
          </span>
          <input
            id={amountId}
            aria-label={`${legend}: amount in US dollars`}
            value={choice.amount}
            onChange={(e) => onChange({ mode: "amount", amount: e.target.value })}
            onFocus={() => choice.mode !== "amount" && onChange({ ...choice, mode: "amount" })}
            placeholder="0.00"
            inputMode="decimal"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={error ? true : undefined}
          />
        </span>
      </div>
      {error && (
        <p id={errorId(period)} className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The form, from the limits as stored; edits stay here until saved. */
function SpendLimitsForm({ stored, defaults }: { stored: PersonBudgetsView; defaults: BudgetDefaults }) {
  const save = useSaveBudgetSettings();
  const [draft, setDraft] = useState<Draft>(() => draftOf(stored));
  const [problem, setProblem] = useState<{ period?: Period; message: string }>();
  const values = valuesOf(draft);
  const dirty = !sameLimits(values, stored.own);

  const edit = (period: Period, choice: LimitChoice) => {
    setDraft((current) => ({ ...current, [period]: choice }));
    setProblem(undefined);
    if (save.isSuccess || save.isError) save.reset();
  };

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (save.isPending) return;
    const invalid = draftProblem(values);
    setProblem(invalid);
    if (invalid) return;
    save.mutate(values, {
      onSuccess: (saved) => setDraft(draftOf(saved)),
      onError: (failure) => {
        const period = (["day", "month"] as const).find((p) => failure instanceof ApiRequestError && failure.field === PERIODS[p].field);
        setProblem(period ? { period, message: labelled(failure.message, PERIODS[period].field, PERIODS[period].name) } : { message: failure.message });
      },
    });
  }

  const state = save.isPending ? "saving" : dirty ? "changed" : save.isSuccess ? "saved" : "stored";
  const stateText = { saving: "Saving…", changed: "Unsaved changes", saved: "Saved", stored: "" }[state];
  const errorFor = (period: Period) => (problem?.period === period ? problem.message : undefined);
  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-label="Spend limits" data-testid="spend-limits-form">
      <LimitField period="day" choice={draft.day} onChange={(choice) => edit("day", choice)} defaultUsd={defaults.dailyUsd} inForceUsd={stored.dailyUsd} spentUsd={stored.spentTodayUsd} error={errorFor("day")} />
      <LimitField period="month" choice={draft.month} onChange={(choice) => edit("month", choice)} defaultUsd={defaults.monthlyUsd} inForceUsd={stored.monthlyUsd} spentUsd={stored.spentThisMonthUsd} error={errorFor("month")} />
      {problem && !problem.period && <ErrorBanner title="Not saved.">{problem.message}</ErrorBanner>}
      <div className={styles.actions}>
        <button type="submit" className="button primary" disabled={save.isPending || !dirty} aria-busy={save.isPending}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
        <span className={styles.saveState} role="status" data-testid="spend-limits-save-state" data-state={state}>
          {stateText}
        </span>
      </div>
    </form>
  );
}

/**
 * Settings → Spend limits: what the person's tasks may spend together per UTC day and month (the
 * configured default, none, or an amount of their own), beside what they spent. A task paused by
 * one links here (`#spend-limits`); the section loads after the page, so it scrolls itself into view.
 */
export function SpendLimits({ defaults }: { defaults: BudgetDefaults }) {
  const { data, error, isPending } = useBudgetSettings();
  const section = useRef<HTMLElement>(null);
  const loaded = data !== undefined;
  useEffect(() => {
    if (loaded && window.location.hash === "#spend-limits") section.current?.scrollIntoView();
  }, [loaded]);
  return (
    <section ref={section} className={`card ${styles.section}`} id="spend-limits" aria-labelledby="spend-limits-heading" aria-busy={isPending}>
      <h2 id="spend-limits-heading">Spend limits</h2>
      <p className="muted section-lead">
        What your tasks may spend together, per day and per month (UTC). A task that reaches one pauses with its work kept until you raise the limit here or finish it. Each task also has a budget of its own, set when it starts.
      </p>
      {error && !data && <ErrorBanner title="Could not load your spend limits.">{error.message}</ErrorBanner>}
      {data && <SpendLimitsForm stored={data} defaults={defaults} />}
    </section>
  );
}
