"use client";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { CreateTaskRequest } from "@/lib/contracts/api";
import type { EgressPolicy } from "@/lib/contracts/egress";
import { AGENTS, DEFAULT_AGENT, agentAdapter, AgentKind } from "@/lib/contracts/agents";
import { ApiRequestError } from "../_lib/api";
import { limitText, parseUsd, usdInputText } from "../_lib/budget";
import { ATTEMPT_CHOICES, attemptsHint } from "../_lib/candidates";
import { checkFieldMessage, readCheckLines } from "../_lib/check-commands";
import { egressHint } from "../_lib/network";
import { useCreateTask, useNetworkSettings } from "../_lib/queries";
import { BaseBranchInput } from "./base-branch-field";
import { EgressSelect } from "./egress-select";
import { ErrorBanner } from "./error-banner";
import { SegmentedControl } from "./segmented-control";

const LAST_REPOSITORY = "acp:last-repository";
const FIELDS = { repository: "Repository", prompt: "Task", agent: "Agent", model: "Model", baseBranch: "Base branch", egress: "Network", budgetUsd: "Budget (USD)", attempts: "Attempts", checks: "Checks" } as const;
type Field = keyof typeof FIELDS;
type FormError = { message: string; field?: Field };

const isField = (name: string | undefined): name is Field => name !== undefined && name in FIELDS;
const inputId = (field: Field) => `new-task-${field}`;
const errorId = (field: Field) => `new-task-${field}-error`;

/** "prompt is required" → "Task is required": the API names fields, the form names labels; a command of the checks, its line (`checkLines`). */
function toFormError(message: string, field: string | undefined, checkLines: readonly number[]): FormError {
  const checks = field === undefined ? undefined : checkFieldMessage(field, message, checkLines);
  if (checks) return { message: checks, field: "checks" };
  if (!isField(field)) return { message };
  const text = message.startsWith(`${field} `) ? `${FIELDS[field]} ${message.slice(field.length + 1)}` : message;
  return { message: text, field };
}

/** Checks the input with the contract's own schema before it goes out; the API checks it again. */
function validate(input: CreateTaskRequest, checkLines: readonly number[]): FormError | undefined {
  const result = CreateTaskRequest.safeParse(input);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return undefined;
  const field = issue.path.map(String).join(".");
  return toFormError(field ? `${field} ${issue.message}` : issue.message, field, checkLines);
}

function FormField({ field, error, hint, hintTestId, children }: { field: Field; error?: FormError; hint?: string; hintTestId?: string; children: ReactNode }) {
  const message = error?.field === field ? error.message : undefined;
  return (
    <div className="field">
      <label htmlFor={inputId(field)}>{FIELDS[field]}</label>
      {children}
      {message ? (
        <p id={errorId(field)} className="field-error">
          {message}
        </p>
      ) : (
        hint && <p className="field-hint" data-testid={hintTestId}>{hint}</p>
      )}
    </div>
  );
}

/** The budget field's hint: what an empty field means (the configured default) and what 0 does. */
const budgetHint = (defaultUsd: number) =>
  `Optional. The task pauses at this amount until you raise it or finish it. Empty: ${defaultUsd ? `${limitText(defaultUsd)}, the default` : "no limit (the default)"}; 0: no limit.`;

const ATTEMPT_OPTIONS = ATTEMPT_CHOICES.map((n) => ({ value: String(n), label: n, title: n === 1 ? "One agent" : `Best of ${n}: ${n} agents side by side` }));

/** Attempts: how many agents work on the task side by side (best of N), as a segmented control. */
function AttemptsField({ value, onChange, error }: { value: number; onChange: (attempts: number) => void; error?: FormError }) {
  const message = error?.field === "attempts" ? error.message : undefined;
  const hintId = `${inputId("attempts")}-hint`;
  return (
    <div className="field">
      <SegmentedControl
        legend={FIELDS.attempts}
        name="attempts"
        id={inputId("attempts")}
        options={ATTEMPT_OPTIONS}
        value={String(value)}
        onChange={(chosen) => onChange(Number(chosen))}
        describedBy={message ? errorId("attempts") : hintId}
        invalid={message !== undefined}
        testId="new-task-attempts"
      />
      {message ? (
        <p id={errorId("attempts")} className="field-error">
          {message}
        </p>
      ) : (
        <p id={hintId} className="field-hint" data-testid="new-task-attempts-hint">
          {attemptsHint(value)}
        </p>
      )}
    </div>
  );
}

/** `defaultBudgetUsd`: TASK_BUDGET_USD, what a task gets when the field is left empty (0: no limit). */
export function NewTaskForm({ defaultBudgetUsd }: { defaultBudgetUsd: number }) {
  const router = useRouter();
  const form = useRef<HTMLFormElement>(null);
  const create = useCreateTask();
  const [repository, setRepository] = useState("");
  const [prompt, setPrompt] = useState("");
  const [agent, setAgent] = useState<AgentKind>(DEFAULT_AGENT);
  const [baseBranch, setBaseBranch] = useState("");
  const [model, setModel] = useState("");
  const [egress, setEgress] = useState<EgressPolicy | "">("");
  const [checks, setChecks] = useState("");
  const [budget, setBudget] = useState("");
  const [attempts, setAttempts] = useState(1);
  const network = useNetworkSettings();
  const [error, setError] = useState<FormError>();
  const busy = create.isPending || create.isSuccess;
  /** An agent that takes a model shows the field, with an example of its models; one that takes none, no field. */
  const chosen = agentAdapter(agent);
  const modelExample = "model" in chosen ? chosen.model.example : undefined;

  useEffect(() => {
    const saved = window.localStorage.getItem(LAST_REPOSITORY);
    if (saved) setRepository((current) => current || saved);
  }, []);

  useEffect(() => {
    if (error?.field) document.getElementById(inputId(error.field))?.focus();
  }, [error]);

  const invalid = (field: Field) =>
    error?.field === field ? { "aria-invalid": true, "aria-describedby": errorId(field) } : {};
  const edited = (field: Field) => {
    if (error?.field === field) setError(undefined);
  };

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    // The default policy is the person's, decided on the control plane: the request names none.
    // No checks given: the repository's own run (none is sent, not an empty list).
    const checkLines = readCheckLines(checks);
    // Empty: the configured budget (none is sent). Anything typed that is not an amount is NaN, which the schema names.
    const budgetUsd = parseUsd(budget);
    const input = {
      repository,
      prompt,
      agent,
      model: modelExample ? model.trim() : "",
      baseBranch: baseBranch.trim(),
      ...(egress ? { egress } : {}),
      ...(checkLines.commands.length > 0 ? { checks: checkLines.commands } : {}),
      ...(budgetUsd === undefined ? {} : { budgetUsd }),
      // One is the default: the request names attempts only for best of N.
      ...(attempts > 1 ? { attempts } : {}),
    };
    const problem = validate(input, checkLines.lines);
    setError(problem);
    if (problem) return;
    create.mutate(input, {
      onSuccess: ({ taskId }) => {
        window.localStorage.setItem(LAST_REPOSITORY, repository.trim());
        router.push(`/tasks/${taskId}`);
      },
      onError: (failure) =>
        setError(
          failure instanceof ApiRequestError
            ? toFormError(failure.message, failure.field, checkLines.lines)
            : { message: "Something went wrong." },
        ),
    });
  }

  function onPromptKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      form.current?.requestSubmit();
    }
  }

  return (
    <form ref={form} className="card form" onSubmit={onSubmit} noValidate aria-labelledby="new-task-heading">
      <h2 id="new-task-heading">New task</h2>
      <FormField field="repository" error={error}>
        <input
          id={inputId("repository")}
          name="repository"
          value={repository}
          onChange={(e) => {
            setRepository(e.target.value);
            edited("repository");
          }}
          placeholder="/path/to/repo or https://github.com/org/repo.git"
          autoComplete="off"
          spellCheck={false}
          required
          {...invalid("repository")}
        />
      </FormField>
      <FormField field="prompt" error={error} hint="Ctrl + Enter starts the task.">
        <textarea
          id={inputId("prompt")}
          name="prompt"
          value={prompt}
          onChange={(e) => {
            setPrompt(e.target.value);
            edited("prompt");
          }}
          onKeyDown={onPromptKeyDown}
          placeholder="Add rate limiting to the login route"
          rows={5}
          required
          {...invalid("prompt")}
        />
      </FormField>
      <FormField field="agent" error={error}>
        <select
          id={inputId("agent")}
          name="agent"
          value={agent}
          onChange={(e) => {
            const parsed = AgentKind.safeParse(e.target.value);
            if (parsed.success) setAgent(parsed.data);
            edited("agent");
          }}
          {...invalid("agent")}
        >
          {AGENTS.map((option) => (
            <option key={option.name} value={option.name}>
              {option.label}
            </option>
          ))}
        </select>
      </FormField>
      {modelExample && (
        <FormField field="model" error={error} hint="Empty: the agent's default model.">
          <input
            id={inputId("model")}
            name="model"
            value={model}
            onChange={(e) => {
              setModel(e.target.value);
              edited("model");
            }}
            placeholder={modelExample}
            autoComplete="off"
            spellCheck={false}
            {...invalid("model")}
          />
        </FormField>
      )}
      <AttemptsField
        value={attempts}
        onChange={(chosen) => {
          setAttempts(chosen);
          edited("attempts");
        }}
        error={error}
      />
      <FormField field="baseBranch" error={error}>
        <BaseBranchInput
          repository={repository}
          id={inputId("baseBranch")}
          name="baseBranch"
          value={baseBranch}
          onChange={(e) => {
            setBaseBranch(e.target.value);
            edited("baseBranch");
          }}
          autoComplete="off"
          spellCheck={false}
          {...invalid("baseBranch")}
        />
      </FormField>
      <FormField field="egress" error={error} hint={egressHint(egress, network.data?.defaultPolicy)} hintTestId="egress-hint">
        <EgressSelect
          id={inputId("egress")}
          name="egress"
          value={egress}
          onPolicy={(policy) => {
            setEgress(policy);
            edited("egress");
          }}
          {...invalid("egress")}
        />
      </FormField>
      <FormField field="budgetUsd" error={error} hint={budgetHint(defaultBudgetUsd)}>
        <input
          id={inputId("budgetUsd")}
          name="budgetUsd"
          value={budget}
          onChange={(e) => {
            setBudget(e.target.value);
            edited("budgetUsd");
          }}
          placeholder={defaultBudgetUsd ? usdInputText(defaultBudgetUsd) : "no limit"}
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          {...invalid("budgetUsd")}
        />
      </FormField>
      <FormField field="checks" error={error} hint="Optional. One shell command a line, run in the worktree after each turn in place of the repository's own (.agent/checks.sh, package.json's test script).">
        <textarea
          id={inputId("checks")}
          name="checks"
          className="mono"
          value={checks}
          onChange={(e) => {
            setChecks(e.target.value);
            edited("checks");
          }}
          placeholder={"npm test\nnpm run lint"}
          rows={2}
          spellCheck={false}
          {...invalid("checks")}
        />
      </FormField>
      {error && !error.field && <ErrorBanner title="The task was not started.">{error.message}</ErrorBanner>}
      <button type="submit" className="button primary" disabled={busy} aria-busy={busy}>
        {busy ? "Starting…" : "Start task"}
      </button>
    </form>
  );
}
