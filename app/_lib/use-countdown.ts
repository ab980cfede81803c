import { useEffect, useState } from "react";

/**
 * Milliseconds left until `until` (an ISO time), refreshed as each whole second of it passes
 * (woken on the deadline's own second boundaries, so a display never skips a second); negative
 * once it has passed, when it stops ticking. A display clock, not a data fetch.
 */
export function useCountdown(until: string): number {
  const end = Date.parse(until);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (Number.isNaN(end)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      const current = Date.now();
      setNow(current);
      const left = end - current;
      if (left > 0) timer = setTimeout(tick, (left % 1000 || 1000) + 15);
    };
    tick();
    return () => clearTimeout(timer);
  }, [end]);
  return end - now;
}
