"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { fieldProps } from "@/lib/form-fields";
import { useKeptForm } from "@/lib/client/use-kept-form";
import type { PoolDetail } from "@/lib/types";
import { scalePool, type PoolFormState } from "../actions";

const INITIAL: PoolFormState = { status: "idle" };

/** Manual scale; the limits, thresholds and the rest are in the settings form. */
export function ScalingControls({ pool }: { pool: Pick<PoolDetail, "name" | "podCount" | "minPods" | "maxPods"> }) {
  const [scaleAnswer, scale, scaling] = useActionState(scalePool, INITIAL);
  const { shown: scaled, formProps: scaleFormProps } = useKeptForm(scaleAnswer, scale);
  return (
    <div className="stack">
      <form {...scaleFormProps} className="inline-form" data-testid="scale-pool-form" noValidate>
        <input type="hidden" name="pool" value={pool.name} />
        <label className="field">
          <span>Scale to pods now</span>
          <input
            name="pods"
            {...fieldProps(scaled, "pods", "scale-pool-message")}
            type="number"
            min={pool.minPods}
            max={pool.maxPods}
            required
            placeholder={`now ${pool.podCount}`}
            data-testid="scale-pods"
          />
        </label>
        <button type="submit" className="button" disabled={scaling}>
          {scaling ? "Scaling…" : "Scale"}
        </button>
      </form>
      <FormMessage state={scaled} testId="scale-pool-message" id="scale-pool-message" />
      <p className="muted small">
        Between min ({pool.minPods}) and max ({pool.maxPods}) pods. Manual scaling never removes a pod that has a running or reserved slot; it reports the pods it kept.
      </p>
    </div>
  );
}
