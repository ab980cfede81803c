"use client";
import { useEffect, useState, type InputHTMLAttributes } from "react";
import { Repository } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { useRepositoryBranches } from "../_lib/queries";

/** Waits until the value has not changed for `ms` (typing a repository asks once, not per key). */
function useSettled(value: string, ms: number) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * The base-branch input with the repository's branches offered as suggestions (a datalist), and a
 * hint that names its default branch; free text stays possible where the branches are not known here.
 */
export function BaseBranchInput({ repository, ...input }: { repository: string } & InputHTMLAttributes<HTMLInputElement>) {
  const typed = useSettled(repository.trim(), 400);
  // Only a repository the submission would take is asked about (the field says what is wrong with another).
  const settled = Repository.safeParse(typed).success ? typed : "";
  const { data, error, isFetching } = useRepositoryBranches(settled);
  const listId = "new-task-base-branches";
  const aboutRepository = error instanceof ApiRequestError && error.field === "repository";
  const hint = !settled || aboutRepository
    ? "One of the repository's branches; empty: its default branch."
    : isFetching
      ? "Reading the repository's branches…"
      : error
        ? `Its branches could not be read here (${error.message}); the node checks the name after its clone.`
        : data?.listed
          ? `${data.branches.length}${data.truncated ? "+" : ""} ${data.branches.length === 1 ? "branch" : "branches"}; empty: ${data.defaultBranch ?? "its default branch"}.`
          : "One of the repository's branches (checked on the node); empty: its default branch.";
  return (
    <>
      <input {...input} list={listId} placeholder={data?.defaultBranch ?? "main"} />
      <datalist id={listId} data-testid="base-branch-options">
        {data?.branches.map((name) => <option key={name} value={name} />)}
      </datalist>
      <p className="field-hint" data-testid="base-branch-hint">
        {hint}
      </p>
    </>
  );
}
