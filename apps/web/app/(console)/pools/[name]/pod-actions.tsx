"use client";

import { useActionState } from "react";
import { IDLE } from "@/lib/mutation";
import type { Pod } from "@/lib/types";
import { ConfirmSubmit } from "@/components/confirm-submit";
import { podAction } from "../actions";

const DRAINABLE = new Set(["Pending", "Starting", "Ready"]);
const DELETABLE = new Set(["Pending", "Starting", "Ready", "Draining"]);

/**
 * Per pod: drain (no new work, deleted once idle), delete now (only when every slot is idle) and,
 * for a Lost pod, clear it from the list. The parent re-keys this by phase, so a message about a
 * previous phase does not stay.
 */
export function PodActions({ pool, pod }: { pool: string; pod: Pod }) {
  const [state, act, pending] = useActionState(podAction, IDLE);
  const idle = pod.slots.every((s) => s.state === "idle");
  const form = (action: "drain" | "delete" | "clear", label: string, question: string) => (
    <form action={act}>
      <input type="hidden" name="pool" value={pool} />
      <input type="hidden" name="pod" value={pod.name} />
      <input type="hidden" name="action" value={action} />
      <ConfirmSubmit label={label} question={question} confirmLabel={pending ? "Working…" : label} testId={`pod-${action}`} />
    </form>
  );
  return (
    <div className="row-actions pod-actions" data-testid="pod-actions">
      {DRAINABLE.has(pod.phase) && form("drain", "Drain", idle ? "Drain it? It is idle, so it goes at once." : "Drain it? No new work; it goes once its slots are idle.")}
      {DELETABLE.has(pod.phase) && idle && form("delete", "Delete", "Delete this idle pod now?")}
      {pod.phase === "Lost" && form("clear", "Clear", "Clear this Lost pod from the list?")}
      {state.status !== "idle" && state.message && (
        <span role={state.status === "error" ? "alert" : "status"} className={state.status === "error" ? "error-text small" : "muted small"} data-testid="pod-action-message">
          {state.message}
        </span>
      )}
    </div>
  );
}
