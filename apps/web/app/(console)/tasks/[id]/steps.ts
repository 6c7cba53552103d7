import type { TaskDetail } from "../../../../lib/types";

export interface Step {
  label: string;
  at: string | null;
  detail?: string;
  tone?: "done" | "failed";
}

const ENDED: Record<string, string> = { succeeded: "Succeeded", failed: "Failed", cancelled: "Cancelled", expired: "Expired" };

/** The task's steps so far, from its own timestamps: what happened and when. */
export function timelineOf(task: TaskDetail): Step[] {
  const where = task.podName ? `${task.podName}${task.slotIndex !== null ? ` · slot #${task.slotIndex}` : ""}` : undefined;
  const steps: Step[] = [{ label: "Submitted", at: task.createdAt, detail: `to ${task.pool}` }];
  if (task.startedAt) steps.push({ label: "Placed", at: task.startedAt, detail: where ? `on ${where}` : undefined });
  // acknowledgedAt is the start of the current phase: the plan's before approval, the apply's after.
  if (task.acknowledgedAt && !task.approvedAt) steps.push({ label: "Started", at: task.acknowledgedAt, detail: "the agent confirmed it runs" });
  if (task.planReadyAt) steps.push({ label: "Planned", at: task.planReadyAt, detail: "waiting for approval; the slot is reserved" });
  const comment = task.reviewComment ? `: “${task.reviewComment}”` : "";
  if (task.approvedAt) {
    const by = task.reviewedBy ? `by ${task.reviewedBy}` : "";
    steps.push({ label: "Approved", at: task.approvedAt, detail: [by, where ? `apply on ${where}` : ""].filter(Boolean).join(", ") + comment || undefined });
  }
  if (task.reviewVerdict === "rejected") steps.push({ label: "Rejected", at: task.reviewedAt, detail: `${task.reviewedBy ? `by ${task.reviewedBy}` : ""}${comment}` || undefined, tone: "failed" });
  if (task.acknowledgedAt && task.approvedAt) steps.push({ label: "Apply started", at: task.acknowledgedAt, detail: "the agent confirmed it applies" });
  if (task.finishedAt && ENDED[task.status]) {
    const reason = task.failureReason ? ` (${task.failureReason})` : "";
    steps.push({ label: task.status === "succeeded" && task.approvedAt ? "Applied" : ENDED[task.status]!, at: task.finishedAt, detail: (task.error ?? "") + reason || undefined, tone: task.status === "succeeded" ? "done" : "failed" });
  }
  return steps;
}
