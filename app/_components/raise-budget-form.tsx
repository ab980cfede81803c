"use client";
import { useState, type FormEvent } from "react";
import { BudgetUsd, type TaskBudgetView } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { labelled, parseUsd, suggestedRaise, usdInputText } from "../_lib/budget";
import { useSetTaskBudget } from "../_lib/queries";
import styles from "./budget.module.css";

const INPUT_ID = "budget-raise";
const ERROR_ID = "budget-raise-error";
/** How an error names the amount: "The budget must be more than the $2.04 the task has spent …". */
const NAME = "The budget";

/** Why the amount cannot be sent, in the contract's own words (an empty field is not an amount). */
function amountProblem(amount: number | undefined): string | undefined {
  const checked = BudgetUsd.safeParse(amount ?? Number.NaN);
  return checked.success ? undefined : `${NAME} ${checked.error.issues[0]?.message ?? "is not an amount"}`;
}

/**
 * "Raise to $__": the task's new budget, prefilled with the suggestion (double the limit until past
 * the spend) until the person types. The server judges it against the spend: its 422 shows here.
 */
export function RaiseBudgetForm({ taskId, budget }: { taskId: string; budget: TaskBudgetView }) {
  const raise = useSetTaskBudget(taskId);
  const [typed, setTyped] = useState<string>();
  const [error, setError] = useState<string>();
  const amount = typed ?? usdInputText(suggestedRaise(budget.limitUsd, budget.spentUsd));
  const busy = raise.isPending;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const value = parseUsd(amount);
    const problem = amountProblem(value);
    setError(problem);
    if (problem || value === undefined) return;
    raise.mutate(value, {
      onError: (failure) =>
        setError(failure instanceof ApiRequestError && failure.field === "budgetUsd" ? labelled(failure.message, "budgetUsd", NAME) : failure.message),
    });
  }

  return (
    <form className={styles.raise} onSubmit={onSubmit} noValidate aria-label="Raise the task's budget" data-testid="budget-raise">
      <div className={styles.raiseRow}>
        <label htmlFor={INPUT_ID} className={styles.raiseLabel}>
          Raise to
        </label>
        <span className={`field ${styles.raiseAmount}`}>
          <span className={styles.raiseDollar} aria-hidden="true">
            $
          </span>
          <input
            id={INPUT_ID}
            name="budgetUsd"
            value={amount}
            onChange={(e) => {
              setTyped(e.target.value);
              setError(undefined);
            }}
            inputMode="decimal"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? ERROR_ID : undefined}
          />
        </span>
        <button type="submit" className="button primary" disabled={busy} aria-busy={busy} data-testid="budget-raise-submit">
          {busy ? "Raising…" : "Raise"}
        </button>
      </div>
      {error && (
        <p id={ERROR_ID} className="field-error" role="alert" data-testid="budget-raise-error">
          {error}
        </p>
      )}
    </form>
  );
}
