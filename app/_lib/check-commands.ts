/** The new-task form's Checks box: one shell command a line, and the API's word on one of them placed on its line. */

/** The commands in the box, blank lines left out; `lines`: each command's line in the box (from 1). */
export type CheckLines = { commands: string[]; lines: number[] };

export function readCheckLines(text: string): CheckLines {
  const commands: string[] = [];
  const lines: number[] = [];
  text.split("\n").forEach((line, at) => {
    if (line.trim() === "") return;
    commands.push(line.trim());
    lines.push(at + 1);
  });
  return { commands, lines };
}

/**
 * The API names a command by its place in the list ("checks.1 must be at most 2000 characters");
 * the form says which line of the box it is ("Checks, line 3: must be …"), as blank lines are not
 * sent. Undefined for another field.
 */
export function checkFieldMessage(field: string, message: string, lines: readonly number[]): string | undefined {
  const match = /^checks(?:\.(\d+))?$/.exec(field);
  if (!match) return undefined;
  const detail = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  if (match[1] === undefined) return `Checks: ${detail}`;
  const index = Number(match[1]);
  return `Checks, line ${lines[index] ?? index + 1}: ${detail}`;
}
