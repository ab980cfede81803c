/** Next.js calls this once when the server starts: the app's supervisor starts with it. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.SUPERVISOR === "off") return;
  const { ensureSupervisor } = await import("./inngest/supervisor");
  ensureSupervisor();
}
