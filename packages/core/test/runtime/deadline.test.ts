// A deadline combined with another signal fires even after garbage collection. Node's
// AbortSignal.timeout() combined through AbortSignal.any() can be collected before it fires and
// then never aborts (seen on Node.js 20.20 with this same harness): an agent kept retrying an API
// gone for good long past its orphan timeout.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deadlineSignal } from "../../src/runtime/deadline.js";

const DEADLINE = fileURLToPath(new URL("../../src/runtime/deadline.ts", import.meta.url));

/** Runs `body` in a fresh Node process with --expose-gc, collecting garbage while it waits. */
function underGc(body: string): { aborted: boolean; reason?: string } {
  const script = `
    import { deadlineSignal } from ${JSON.stringify(DEADLINE)};
    const other = new AbortController();
    ${body}
    for (let i = 0; i < 15; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); }
    console.log(JSON.stringify({ aborted: signal.aborted, reason: signal.reason?.name }));
  `;
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

describe("deadlineSignal", () => {
  it("aborts after its time, combined with another signal, while garbage is collected", () => {
    expect(underGc(`const { signal } = deadlineSignal(300, other.signal);`)).toEqual({ aborted: true, reason: "TimeoutError" });
  });

  it("aborts at once with the other signal, and clear() keeps it from firing later", () => {
    const other = new AbortController();
    const d = deadlineSignal(50, other.signal);
    other.abort();
    expect(d.signal.aborted).toBe(true);
    const quiet = deadlineSignal(20);
    quiet.clear();
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(quiet.signal.aborted).toBe(false);
        resolve();
      }, 60),
    );
  });
});
