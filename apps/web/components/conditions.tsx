import type { Condition } from "@/lib/types";

// Kubernetes-style conditions: a healthy Degraded is "False", so the colour depends on the type.
function tone(condition: Condition): "good" | "bad" | "neutral" {
  const on = condition.status === "True";
  if (condition.type === "Degraded") return on ? "bad" : "good";
  if (condition.status === "Unknown") return "neutral";
  if (condition.type === "Progressing") return "neutral";
  return on ? "good" : "bad";
}

export function Conditions({ conditions }: { conditions: Condition[] }) {
  if (conditions.length === 0) return <span className="muted small">No conditions reported yet</span>;
  return (
    <ul className="conditions" aria-label="Conditions">
      {conditions.map((c) => (
        <li
          key={c.type}
          className={`condition condition-${tone(c)}`}
          title={[c.reason, c.message].filter(Boolean).join(": ") || undefined}
          data-testid={`condition-${c.type}`}
          data-status={c.status}
        >
          {/* "Progressing · ScalingUp" when it holds; "not Degraded · Healthy" when it does not. */}
          {c.status === "False" && <span className="condition-not">not </span>}
          <strong>{c.type}</strong>
          {c.status === "Unknown" && <span className="condition-not"> unknown</span>}
          {c.reason && <span className="condition-reason"> · {c.reason}</span>}
        </li>
      ))}
    </ul>
  );
}
