"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { fieldProps } from "@/lib/form-fields";
import { useKeptForm } from "@/lib/client/use-kept-form";
import type { PoolDetail } from "@/lib/types";
import { scalePool, updatePool, type PoolFormState } from "../actions";

const INITIAL: PoolFormState = { status: "idle" };

type Limits = Pick<PoolDetail, "name" | "minPods" | "maxPods" | "scaleUpAt" | "scaleDownAt" | "autoscale" | "podCount">;

export function ScalingControls({ pool }: { pool: Limits }) {
  const [saved, save, saving] = useActionState(updatePool, INITIAL);
  const [scaleAnswer, scale, scaling] = useActionState(scalePool, INITIAL);
  const { shown: scaled, formProps: scaleFormProps } = useKeptForm(scaleAnswer, scale);
  return (
    <div className="stack">
      {/* Re-keyed when the saved limits change, so the inputs show what the API now holds. */}
      <form
        key={`${pool.minPods}|${pool.maxPods}|${pool.scaleUpAt}|${pool.scaleDownAt}|${pool.autoscale}`}
        action={save}
        className="form-grid"
        data-testid="update-pool-form"
        noValidate
      >
        <input type="hidden" name="pool" value={pool.name} />
        <label className="field">
          <span>Min pods</span>
          <input name="minPods" {...fieldProps(saved, "minPods", "update-pool-message")} type="number" min={0} defaultValue={pool.minPods} data-testid="min-pods" />
        </label>
        <label className="field">
          <span>Max pods</span>
          <input name="maxPods" {...fieldProps(saved, "maxPods", "update-pool-message")} type="number" min={0} defaultValue={pool.maxPods} data-testid="max-pods" />
        </label>
        <label className="field">
          <span>Scale up at</span>
          <input name="scaleUpAt" {...fieldProps(saved, "scaleUpAt", "update-pool-message")} type="number" step="0.05" min={0} max={1} defaultValue={pool.scaleUpAt} />
        </label>
        <label className="field">
          <span>Scale down at</span>
          <input name="scaleDownAt" {...fieldProps(saved, "scaleDownAt", "update-pool-message")} type="number" step="0.05" min={0} max={1} defaultValue={pool.scaleDownAt} />
        </label>
        <label className="field field-check">
          <input name="autoscale" {...fieldProps(saved, "autoscale", "update-pool-message")} type="checkbox" defaultChecked={pool.autoscale} data-testid="autoscale" />
          <span>Autoscale</span>
        </label>
        <div className="field-wide form-actions">
          <FormMessage state={saved} testId="update-pool-message" id="update-pool-message" />
          <button type="submit" className="button button-primary" disabled={saving}>
            {saving ? "Saving…" : "Save limits"}
          </button>
        </div>
      </form>

      <form {...scaleFormProps} className="inline-form" data-testid="scale-pool-form" noValidate>
        <input type="hidden" name="pool" value={pool.name} />
        <label className="field">
          <span>Scale to pods now</span>
          <input name="pods" {...fieldProps(scaled, "pods", "scale-pool-message")} type="number" min={0} required placeholder={`now ${pool.podCount}`} data-testid="scale-pods" />
        </label>
        <button type="submit" className="button" disabled={scaling}>
          {scaling ? "Scaling…" : "Scale"}
        </button>
      </form>
      <FormMessage state={scaled} testId="scale-pool-message" id="scale-pool-message" />
      <p className="muted small">Manual scaling never removes a pod that has a running or reserved slot; it reports the pods it kept.</p>
    </div>
  );
}
