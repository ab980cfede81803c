"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { AgentKind } from "@/lib/contracts/vm-agent";
import { createTask, RequestFailed } from "../_lib/api";

const LAST_REPOSITORY = "acp:last-repository";
type Field = "repository" | "prompt" | "agent";

export function NewTaskForm() {
  const router = useRouter();
  const [repository, setRepository] = useState("");
  const [prompt, setPrompt] = useState("");
  const [agent, setAgent] = useState<AgentKind>("script");
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; field?: Field }>();

  useEffect(() => {
    const saved = window.localStorage.getItem(LAST_REPOSITORY);
    if (saved) setRepository(saved);
  }, []);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(undefined);
    try {
      const { taskId } = await createTask({ repository, prompt, agent });
      window.localStorage.setItem(LAST_REPOSITORY, repository);
      router.push(`/tasks/${taskId}`);
    } catch (failure) {
      const field = failure instanceof RequestFailed ? (failure.field as Field | undefined) : undefined;
      setError({ message: (failure as Error).message, field });
      setSubmitting(false);
    }
  }

  const fieldError = (field: Field) => (error?.field === field ? error.message : undefined);
  const describe = (field: Field) => (fieldError(field) ? { "aria-invalid": true, "aria-describedby": `${field}-error` } : {});

  return (
    <form className="card form" onSubmit={onSubmit} noValidate>
      <h2>New task</h2>
      <div className="field">
        <label htmlFor="repository">Repository</label>
        <input
          id="repository"
          name="repository"
          value={repository}
          onChange={(e) => setRepository(e.target.value)}
          placeholder="/path/to/repo or https://github.com/org/repo.git"
          autoComplete="off"
          spellCheck={false}
          required
          {...describe("repository")}
        />
        {fieldError("repository") && <p id="repository-error" className="field-error">{fieldError("repository")}</p>}
      </div>
      <div className="field">
        <label htmlFor="prompt">Task</label>
        <textarea
          id="prompt"
          name="prompt"
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="Add rate limiting to the login route"
          rows={5}
          required
          {...describe("prompt")}
        />
        {fieldError("prompt") && <p id="prompt-error" className="field-error">{fieldError("prompt")}</p>}
      </div>
      <div className="field">
        <label htmlFor="agent">Agent</label>
        <select id="agent" name="agent" value={agent} onChange={(e) => setAgent(AgentKind.parse(e.target.value))} {...describe("agent")}>
          {AgentKind.options.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
        {fieldError("agent") && <p id="agent-error" className="field-error">{fieldError("agent")}</p>}
      </div>
      {error && !error.field && (
        <p className="banner banner-error" role="alert">
          {error.message}
        </p>
      )}
      <button type="submit" className="button primary" disabled={submitting}>
        {submitting ? "Starting…" : "Start task"}
      </button>
    </form>
  );
}
