/** A task's prompt as a one-line title: its first non-empty line, at most `max` characters. */
export function briefTitle(prompt: string, max = 120): string {
  const line = prompt.split("\n").map((l) => l.trim()).find(Boolean) ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
