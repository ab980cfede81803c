"use client";
import type { ReactNode } from "react";
import styles from "./segmented.module.css";

export type SegmentedOption<T extends string> = { value: T; label: ReactNode; title?: string };

/**
 * A few choices side by side, one chosen: radio buttons (arrow keys move between them) drawn as one
 * bar. `legend` names the group; `id` goes on the chosen one (for a label or a focus after an error).
 */
export function SegmentedControl<T extends string>(props: {
  legend: ReactNode;
  name: string;
  options: readonly SegmentedOption<T>[];
  value: T;
  onChange: (value: T) => void;
  id?: string;
  disabled?: boolean;
  size?: "small";
  describedBy?: string;
  invalid?: boolean;
  testId?: string;
}) {
  return (
    <fieldset className={styles.group} disabled={props.disabled} data-size={props.size} data-testid={props.testId}>
      <legend className={styles.legend}>{props.legend}</legend>
      <div className={styles.bar}>
        {props.options.map((option) => {
          const chosen = option.value === props.value;
          return (
            <label key={option.value} className={styles.option} title={option.title}>
              <input
                type="radio"
                className={styles.input}
                name={props.name}
                value={option.value}
                checked={chosen}
                onChange={() => props.onChange(option.value)}
                id={chosen ? props.id : undefined}
                aria-describedby={props.describedBy}
                aria-invalid={props.invalid || undefined}
              />
              <span className={styles.face}>{option.label}</span>
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}
