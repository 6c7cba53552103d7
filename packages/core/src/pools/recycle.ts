// Pod recycling: which pods have served long enough and should be replaced. Pure, like the
// other decisions; the controller drains what this names (no new work lands there) and
// deletes each once every slot is idle, so recycling never interrupts running or reserved work.
import type { PodSnapshot } from "./decide.js";
import type { PoolSpec } from "./spec.js";

export type RecycleSpec = Pick<PoolSpec, "maxTasksPerPod" | "maxPodAgeSeconds">;

/** Why `pod` is due for replacement, or null while it may keep taking work. */
export function recycleReason(pod: PodSnapshot, spec: RecycleSpec, now: Date): string | null {
  if (spec.maxTasksPerPod !== null && (pod.tasksStarted ?? 0) >= spec.maxTasksPerPod) {
    return `started ${pod.tasksStarted ?? 0} task(s), maxTasksPerPod is ${spec.maxTasksPerPod}`;
  }
  if (spec.maxPodAgeSeconds !== null) {
    const age = Math.floor((now.getTime() - pod.createdAt.getTime()) / 1000);
    if (age >= spec.maxPodAgeSeconds) return `${age}s old, maxPodAgeSeconds is ${spec.maxPodAgeSeconds}`;
  }
  return null;
}

/** Ready pods past maxTasksPerPod or maxPodAgeSeconds, with the reason for each. */
export function selectPodsToRecycle(pods: PodSnapshot[], spec: RecycleSpec, now: Date): { name: string; reason: string }[] {
  if (spec.maxTasksPerPod === null && spec.maxPodAgeSeconds === null) return [];
  return pods.flatMap((p) => {
    if (p.phase !== "Ready") return [];
    const reason = recycleReason(p, spec, now);
    return reason === null ? [] : [{ name: p.name, reason }];
  });
}
