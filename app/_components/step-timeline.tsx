"use client";
import { useEffect, useState } from "react";
import type { TaskStepView } from "@/lib/contracts/api";
import { formatDuration } from "../_lib/format";

const ICONS: Record<TaskStepView["status"], string> = { running: "", succeeded: "✓", failed: "✕", skipped: "–" };

/** One row per step the run entered, with a ticking duration for the step in progress. */
export function StepTimeline({ steps }: { steps: TaskStepView[] }) {
  const running = steps.some((s) => s.status === "running");
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [running]);

  if (steps.length === 0) return <p className="muted">Waiting for the pipeline to start…</p>;
  return (
    <ol className="timeline">
      {steps.map((step) => {
        const duration = step.durationMs ?? (step.status === "running" ? Math.max(0, now - Date.parse(step.startedAt)) : null);
        return (
          <li key={step.step} className={`step step-${step.status}`} data-testid={`step-${step.step}`} data-status={step.status}>
            <span className="step-icon" aria-hidden="true">
              {ICONS[step.status]}
            </span>
            <span className="step-body">
              <span className="step-label">{step.label}</span>
              {step.detail && <span className="step-detail">{step.detail}</span>}
            </span>
            <span className="step-duration">
              <span className="sr-only">{step.status}, </span>
              {step.status === "skipped" ? "skipped" : duration === null ? "" : formatDuration(duration)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
