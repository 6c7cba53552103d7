import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Working directories: `<root>/<slot>/<taskId>`, the command's cwd. Berth's own files sit in
 * `<dir>/.berth/`: the log offset reached (an apply continues its plan's log) and the `keep`
 * marker. `payload.json` is the task's payload, for the command.
 */
export class WorkDirs {
  constructor(readonly root: string) {}

  dirOf(slot: number, taskId: string): string {
    return join(this.root, String(slot), taskId);
  }

  /** A fresh directory for a plan (or single-phase) run; whatever an earlier attempt left is removed. */
  prepare(slot: number, taskId: string, payload: unknown, keep: boolean): string {
    const dir = this.dirOf(slot, taskId);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, ".berth"), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "payload.json"), JSON.stringify(payload ?? {}));
    if (keep) writeFileSync(join(dir, ".berth", "keep"), "");
    return dir;
  }

  exists(slot: number, taskId: string): boolean {
    return existsSync(join(this.dirOf(slot, taskId), ".berth"));
  }

  resultFile(dir: string): string {
    return join(dir, ".berth", "result.json");
  }

  /** Removes an earlier phase's result, so that an apply that writes none does not report the plan's again. */
  clearResult(dir: string): void {
    rmSync(this.resultFile(dir), { force: true });
  }

  logOffset(dir: string): number {
    try {
      const n = Number(readFileSync(join(dir, ".berth", "log-offset"), "utf8"));
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  saveLogOffset(dir: string, offset: number): void {
    try {
      writeFileSync(join(dir, ".berth", "log-offset"), String(offset));
    } catch {
      // Removed meanwhile (cancelled): nothing to continue.
    }
  }

  /** Removes the task's directory unless it is marked to be kept. */
  remove(slot: number, taskId: string): void {
    const dir = this.dirOf(slot, taskId);
    if (existsSync(join(dir, ".berth", "keep"))) return;
    rmSync(dir, { recursive: true, force: true });
  }

  /** Every task directory on disk: `{ slot, taskId }`. */
  list(): { slot: number; taskId: string }[] {
    const out: { slot: number; taskId: string }[] = [];
    let slots: string[];
    try {
      slots = readdirSync(this.root);
    } catch {
      return out;
    }
    for (const slot of slots) {
      if (!/^\d+$/.test(slot)) continue;
      const at = join(this.root, slot);
      try {
        if (!statSync(at).isDirectory()) continue;
        for (const taskId of readdirSync(at)) out.push({ slot: Number(slot), taskId });
      } catch {
        // Removed meanwhile.
      }
    }
    return out;
  }
}

/** What the command wrote to its result file, when it is a JSON value of at most `limit` bytes. */
export function readResult(file: string, limit: number): { value?: unknown; problem?: string } {
  let text: string;
  try {
    if (statSync(file).size > limit) return { problem: `the result file is larger than ${limit} bytes` };
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: "the result file is not JSON" };
  }
}
