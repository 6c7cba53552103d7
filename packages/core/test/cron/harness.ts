import { isResync, type CronRunUpdated, type EventBus } from "../../src/events/index.js";

/** A clock tests move by hand: the scheduler never waits for real time. */
export function manualClock(startIso = "2030-01-01T00:00:00.500Z") {
  let now = new Date(startIso);
  return {
    clock: () => now,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    set(iso: string) {
      now = new Date(iso);
    },
  };
}

/** Everything published on `cronRun` from now until `stop()`. */
export function recordCronEvents(events: EventBus) {
  const controller = new AbortController();
  const seen: CronRunUpdated[] = [];
  const done = (async () => {
    for await (const e of events.subscribe("cronRun", controller.signal)) if (!isResync(e)) seen.push(e);
  })();
  return {
    seen,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** A promise the test resolves when it wants a job to finish. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
