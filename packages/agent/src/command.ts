import { spawn } from "node:child_process";

export interface CommandSpec {
  argv: string[];
  /** Run argv[0] through `/bin/sh -c` (the rest become `$0`, `$1`, ...). */
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
  /** Killed past this (SIGTERM, then SIGKILL after `killGraceMs`): the outcome is `timedOut`. */
  timeoutMs: number | null;
  /** Aborted: the command is stopped the same way; the outcome is `stopped`. */
  stop: AbortSignal;
  killGraceMs: number;
  /** stdout and stderr, in the order they arrive. */
  onOutput: (chunk: Buffer) => void;
}

export interface CommandOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stopped: boolean;
  /** The program could not be started (not found, not executable). */
  spawnError?: string;
}

/** After the leader exits, output still held open by its descendants is waited for this long at most. */
const DRAIN_MS = 2000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Runs a task's command in a process group of its own (so that a stop reaches everything it
 * started), without a shell unless asked. A stop or the timeout sends SIGTERM to the group and
 * SIGKILL after the grace period; whatever of the group is left when the command ends is killed.
 */
export function runCommand(spec: CommandSpec): Promise<CommandOutcome> {
  const [program, ...args] = spec.shell ? ["/bin/sh", "-c", ...spec.argv] : spec.argv;
  return new Promise((resolve) => {
    let timedOut = false;
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const child = spawn(program!, args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const finish = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(killTimer);
      spec.stop.removeEventListener("abort", onStop);
      resolve(outcome);
    };
    const terminate = () => {
      if (child.pid === undefined || killTimer) return;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), spec.killGraceMs);
    };
    const onStop = () => {
      stopped = true;
      terminate();
    };
    const deadline =
      spec.timeoutMs === null
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            terminate();
          }, spec.timeoutMs);
    child.stdout.on("data", spec.onOutput);
    child.stderr.on("data", spec.onOutput);
    child.once("error", (error) => finish({ exitCode: null, signal: null, timedOut: false, stopped: false, spawnError: error.message }));
    child.once("exit", (exitCode, signal) => {
      // The leader is gone: its descendants go with it.
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      const outcome = { exitCode, signal, timedOut, stopped: stopped && !timedOut };
      const drained = setTimeout(() => finish(outcome), DRAIN_MS);
      child.once("close", () => {
        clearTimeout(drained);
        finish(outcome);
      });
    });
    if (spec.stop.aborted) onStop();
    else spec.stop.addEventListener("abort", onStop, { once: true });
  });
}
