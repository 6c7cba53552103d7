import type { RuntimeEvent } from "../../src/runtime/types.js";

/** Polls `condition` until it holds; fails after a bounded wait instead of hanging the test. */
export async function until(condition: () => boolean, what = "condition", timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not a single process id: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Consumes a watch in the background, as a real consumer does, so that the stream keeps being
 * read. The `synced` marker after each full list is kept only when asked for.
 */
export function collect(events: AsyncIterable<RuntimeEvent>, options: { synced?: boolean } = {}) {
  const seen: RuntimeEvent[] = [];
  const finished = (async () => {
    for await (const e of events) if (options.synced || e.type !== "synced") seen.push(e);
  })();
  return {
    seen,
    finished,
    /** Waits (bounded) until `count` events beyond `from` have arrived and returns them. */
    async after(from: number, count: number): Promise<RuntimeEvent[]> {
      await until(() => seen.length >= from + count, `${from + count} watch events`);
      return seen.slice(from, from + count);
    },
  };
}
