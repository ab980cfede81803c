/** One timer per key, for the agent timeout: armed at launch or adoption, cleared when the run ends. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Deadlines {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Calls `expire` at `at` (epoch ms; at once when already past). Replaces the key's earlier timer. */
  arm(key: string, at: number, expire: () => void) {
    this.clear(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (at > Date.now()) return this.arm(key, at, expire); // a deadline beyond one timer's reach
      expire();
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
    timer.unref();
    this.timers.set(key, timer);
  }

  clear(key: string) {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  clearAll() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
