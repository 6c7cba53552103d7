import { dateTime } from "@/lib/format";
import type { TaskDetail } from "@/lib/types";
import { timelineOf } from "./steps";

export function Timeline({ task }: { task: TaskDetail }) {
  const steps = timelineOf(task);
  return (
    <ol className="status-timeline" aria-label="Status timeline" data-testid="task-timeline">
      {steps.map((step) => (
        <li key={step.label} className={`timeline-step ${step.tone ? `timeline-${step.tone}` : ""}`} data-step={step.label}>
          <span className="timeline-label">{step.label}</span> <time dateTime={step.at ?? undefined}>{dateTime(step.at)}</time>
          {step.detail && <div className="muted small">{step.detail}</div>}
        </li>
      ))}
    </ol>
  );
}
