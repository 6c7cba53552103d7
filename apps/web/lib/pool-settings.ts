// Every pool setting the API's UpdatePoolInput accepts, as one list: the settings form, its
// server action and the read-only view are all drawn from it, so a new option is one entry here
// (plus its field in the POOL query). Ranges mirror packages/core/src/pools/spec.ts; the API
// stays the judge and its messages are shown as they come.

export type SettingKind = "int" | "seconds" | "percent" | "bool" | "choice" | "text" | "json";
export type SettingGroup = "Scaling" | "Pods" | "Tasks";

export interface PoolSetting {
  /** The UpdatePoolInput field (and the Pool field it reads back). */
  name: string;
  label: string;
  kind: SettingKind;
  group: SettingGroup;
  help?: string;
  min?: number;
  max?: number;
  options?: readonly string[];
  /** An empty input sends null, which means this (e.g. "no deadline"); otherwise empty = unchanged. */
  emptyMeans?: string;
  /** Only an admin may change it (the API refuses others). */
  adminOnly?: boolean;
  testId?: string;
}

export const POOL_SETTINGS: readonly PoolSetting[] = [
  { name: "minPods", label: "Min pods", kind: "int", group: "Scaling", min: 0, max: 1000, testId: "min-pods" },
  { name: "maxPods", label: "Max pods", kind: "int", group: "Scaling", min: 0, max: 1000, testId: "max-pods" },
  { name: "autoscale", label: "Autoscale", kind: "bool", group: "Scaling", testId: "autoscale" },
  { name: "scaleUpAt", label: "Scale up at", kind: "percent", group: "Scaling", min: 1, max: 100, help: "Utilisation above which pods are added." },
  { name: "scaleDownAt", label: "Scale down at", kind: "percent", group: "Scaling", min: 1, max: 99, help: "Utilisation below which idle pods are removed; below scale up." },
  { name: "maxStep", label: "Max step down", kind: "int", group: "Scaling", min: 1, max: 100, help: "Pods removed per pass at most." },
  { name: "scaleUpMaxStep", label: "Max step up", kind: "int", group: "Scaling", min: 1, max: 1000, emptyMeans: "what the queue needs", help: "Pods added per pass at most." },
  { name: "scaleUpCooldownSeconds", label: "Scale-up cooldown", kind: "seconds", group: "Scaling", min: 0, max: 86_400 },
  { name: "scaleDownCooldownSeconds", label: "Scale-down cooldown", kind: "seconds", group: "Scaling", min: 0, max: 86_400 },
  { name: "stabilizationWindowSeconds", label: "Stabilisation window", kind: "seconds", group: "Scaling", min: 0, max: 86_400, help: "Utilisation must stay low this long before a scale-down." },
  { name: "newPodGraceSeconds", label: "New pod grace", kind: "seconds", group: "Scaling", min: 0, max: 86_400, help: "A new pod is not removed as idle before this." },
  { name: "slotsPerPod", label: "Slots per pod", kind: "int", group: "Pods", min: 1, max: 64 },
  { name: "maxTasksPerPod", label: "Recycle after tasks", kind: "int", group: "Pods", min: 1, max: 1_000_000, emptyMeans: "no limit", help: "A pod that started this many tasks takes no more and is replaced." },
  { name: "maxPodAgeSeconds", label: "Recycle after age", kind: "seconds", group: "Pods", min: 60, max: 365 * 86_400, emptyMeans: "no limit", help: "A pod this old is drained and replaced." },
  { name: "runtime", label: "Runtime", kind: "choice", group: "Pods", options: ["local", "kubernetes"] },
  { name: "namespace", label: "Namespace", kind: "text", group: "Pods" },
  { name: "image", label: "Image", kind: "text", group: "Pods", help: "Empty keeps the current image." },
  { name: "podTemplate", label: "Pod template (JSON)", kind: "json", group: "Pods", help: "A Kubernetes pod spec; empty keeps the current one." },
  { name: "podPolicyOverride", label: "Allow a template that breaks the pod policy", kind: "bool", group: "Pods", adminOnly: true },
  { name: "maxReservedFraction", label: "Reserved slots at most", kind: "percent", group: "Tasks", min: 0, max: 100, help: "Share of the pool's slots that plans waiting for approval may hold; beyond it new plans wait." },
  { name: "reservationTtlSeconds", label: "Reservation TTL", kind: "seconds", group: "Tasks", min: 1, max: 30 * 86_400, help: "How long an approval may wait with its slot held." },
  { name: "taskTimeoutSeconds", label: "Task timeout", kind: "seconds", group: "Tasks", min: 1, max: 7 * 86_400, emptyMeans: "no deadline" },
  { name: "timeoutPolicy", label: "Past the timeout", kind: "choice", group: "Tasks", options: ["fail", "requeue"] },
  { name: "maxAttempts", label: "Max attempts", kind: "int", group: "Tasks", min: 1, max: 100 },
  { name: "lostPodPolicy", label: "Tasks of a Lost pod", kind: "choice", group: "Tasks", options: ["fail", "requeue"] },
  { name: "stopGraceSeconds", label: "Stop grace", kind: "seconds", group: "Tasks", min: 1, max: 3600, help: "How long a stopped task's slot waits for its agent." },
];

export const SETTING_GROUPS: readonly SettingGroup[] = ["Scaling", "Pods", "Tasks"];

/** What an input shows for a setting's current value: percentages as 80, JSON pretty-printed. */
export function displayValue(setting: PoolSetting, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (setting.kind === "percent") return String(Math.round(Number(value) * 10_000) / 100);
  if (setting.kind === "json") return JSON.stringify(value, null, 2);
  if (setting.kind === "bool") return value ? "on" : "";
  return String(value);
}

export class SettingInputError extends Error {
  override readonly name = "SettingInputError";
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * The API value of what was typed, or undefined to leave the setting alone. Accepts "80", "80%"
 * and "80 %" for percentages (sent as 0.8). Only what is not a value at all is refused here.
 */
export function parseSetting(setting: PoolSetting, raw: string): unknown {
  const text = raw.trim();
  if (setting.kind === "bool") return raw === "on";
  if (text === "") return setting.emptyMeans ? null : undefined;
  switch (setting.kind) {
    case "int":
    case "seconds": {
      const n = Number(text);
      if (!Number.isInteger(n)) throw new SettingInputError(setting.name, `${setting.label} must be a whole number${setting.kind === "seconds" ? " of seconds" : ""}.`);
      return n;
    }
    case "percent": {
      const n = Number(text.replace(/\s*%$/, ""));
      if (!Number.isFinite(n)) throw new SettingInputError(setting.name, `${setting.label} must be a percentage, e.g. 80 for 80 %.`);
      return Math.round(n * 100) / 10_000;
    }
    case "json":
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new SettingInputError(setting.name, `${setting.label} must be JSON: ${(error as Error).message}`);
      }
    default:
      return text;
  }
}

/** The API's message about a field, in the form's terms: percentages are shown ×100 here. */
export function explainError(field: string | undefined, message: string): string {
  const setting = POOL_SETTINGS.find((s) => s.name === field);
  if (setting?.kind !== "percent") return message;
  return `${message} (as a fraction: 1 = 100 %)`;
}
