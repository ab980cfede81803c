/** The task's branch: `<prefix><slug>-<id>`, where the slug comes from the prompt. */
export function branchName(prefix: string, prompt: string, taskId: string, maxLength: number): string {
  const suffix = `-${taskId.replace(/[^a-z0-9]/gi, "").slice(0, 8).toLowerCase()}`;
  const room = Math.max(1, maxLength - prefix.length - suffix.length);
  const slug =
    prompt
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, room)
      .replace(/-+$/g, "") || "task";
  return `${prefix}${slug}${suffix}`;
}
