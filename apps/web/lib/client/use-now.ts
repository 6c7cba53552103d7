import { useEffect, useState } from "react";

/**
 * The current time, ticking every `everyMs`. Null during the first render so server and browser
 * render the same markup; relative times appear once the page is interactive.
 */
export function useNow(everyMs: number): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}
