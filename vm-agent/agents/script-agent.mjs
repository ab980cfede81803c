// The built-in `script` agent: a real process that makes a deterministic change derived from the
// prompt, so the whole pipeline runs offline. It writes `.agent/tasks/<slug>.md` and appends to
// `.agent/log.md` in its working directory (the workspace's worktree); the vm-agent commits.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const prompt = process.env.AGENT_PROMPT ?? "";
if (!prompt.trim()) {
  console.error("script agent: AGENT_PROMPT is empty");
  process.exit(2);
}
const digest = createHash("sha256").update(prompt).digest("hex");
const slug =
  prompt
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "") || "task";

fs.mkdirSync(path.join(".agent", "tasks"), { recursive: true });
const file = path.join(".agent", "tasks", `${slug}.md`);
fs.writeFileSync(file, `# Task\n\n${prompt}\n\nsha256: ${digest}\n`);
fs.appendFileSync(path.join(".agent", "log.md"), `- ${digest.slice(0, 12)} ${slug}\n`);
console.log(`script agent: wrote ${file}`);
