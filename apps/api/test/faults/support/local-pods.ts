import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Local pods outlive the API processes that started them (as Kubernetes pods outlive the control
 * plane). A test that started some ends them here: SIGKILL to every pod recorded in the pod
 * directory `<dataDir>/pods`, so nothing it started survives it.
 */
export function killLocalPods(dataDir: string): number {
  const dir = join(dataDir, "pods");
  let killed = 0;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".pod.json"));
  } catch {
    return 0;
  }
  for (const file of files) {
    try {
      const { pid } = JSON.parse(readFileSync(join(dir, file), "utf8")) as { pid: number | null };
      if (typeof pid === "number" && Number.isInteger(pid) && pid > 1) {
        // The pod's whole process group: the agent and anything it runs.
        process.kill(-pid, "SIGKILL");
        killed++;
      }
    } catch {
      // Gone already.
    }
  }
  return killed;
}

/** The pids of the live pods recorded in `<dataDir>/pods`. */
export function localPodPids(dataDir: string): Map<string, number> {
  const dir = join(dataDir, "pods");
  const out = new Map<string, number>();
  try {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".pod.json"))) {
      const record = JSON.parse(readFileSync(join(dir, file), "utf8")) as { name: string; pid: number | null };
      if (record.pid === null) continue;
      try {
        process.kill(record.pid, 0);
        out.set(record.name, record.pid);
      } catch {
        // Not running.
      }
    }
  } catch {
    // No pods yet.
  }
  return out;
}
