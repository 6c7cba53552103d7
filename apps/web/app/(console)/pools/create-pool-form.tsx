"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { fieldProps } from "@/lib/form-fields";
import { createPool, type PoolFormState } from "./actions";

const INITIAL: PoolFormState = { status: "idle" };
const MESSAGE_ID = "create-pool-message";

export function CreatePoolForm() {
  const [state, action, pending] = useActionState(createPool, INITIAL);
  const v = state.values ?? {};
  return (
    // Re-keyed on each answer so a refused form comes back with what was typed, not React's reset.
    <form key={state.at ?? 0} action={action} className="form-grid" data-testid="create-pool-form" noValidate>
      <label className="field field-wide">
        <span>Name</span>
        <input name="name" {...fieldProps(state, "name", MESSAGE_ID)} required defaultValue={v.name} placeholder="e.g. terraform-runners" autoComplete="off" />
        <small className="muted">Lower-case letters, digits and “-”, as for a Kubernetes name.</small>
      </label>
      <label className="field">
        <span>Runtime</span>
        <select name="runtime" {...fieldProps(state, "runtime", MESSAGE_ID)} defaultValue={v.runtime ?? "local"}>
          <option value="local">local</option>
          <option value="kubernetes">kubernetes</option>
        </select>
      </label>
      <label className="field">
        <span>Image</span>
        <input name="image" {...fieldProps(state, "image", MESSAGE_ID)} defaultValue={v.image} placeholder="optional" />
      </label>
      <label className="field">
        <span>Slots per pod</span>
        <input name="slotsPerPod" {...fieldProps(state, "slotsPerPod", MESSAGE_ID)} type="number" min={1} defaultValue={v.slotsPerPod ?? "3"} />
      </label>
      <label className="field">
        <span>Min pods</span>
        <input name="minPods" {...fieldProps(state, "minPods", MESSAGE_ID)} type="number" min={0} defaultValue={v.minPods ?? "1"} />
      </label>
      <label className="field">
        <span>Max pods</span>
        <input name="maxPods" {...fieldProps(state, "maxPods", MESSAGE_ID)} type="number" min={0} defaultValue={v.maxPods ?? "5"} />
      </label>
      <label className="field">
        <span>Scale up at (%)</span>
        <input name="scaleUpAt" {...fieldProps(state, "scaleUpAt", MESSAGE_ID)} inputMode="decimal" defaultValue={v.scaleUpAt ?? "80"} />
      </label>
      <label className="field">
        <span>Scale down at (%)</span>
        <input name="scaleDownAt" {...fieldProps(state, "scaleDownAt", MESSAGE_ID)} inputMode="decimal" defaultValue={v.scaleDownAt ?? "20"} />
      </label>
      <label className="field">
        <span>Reservation TTL (s)</span>
        <input name="reservationTtlSeconds" {...fieldProps(state, "reservationTtlSeconds", MESSAGE_ID)} type="number" min={1} defaultValue={v.reservationTtlSeconds ?? "86400"} />
      </label>
      <label className="field field-check">
        <input name="autoscale" {...fieldProps(state, "autoscale", MESSAGE_ID)} type="checkbox" defaultChecked={v.autoscale ? v.autoscale === "on" : true} />
        <span>Autoscale</span>
      </label>
      <div className="field-wide form-actions">
        <FormMessage state={state} testId="create-pool-message" id={MESSAGE_ID} />
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Creating…" : "Create pool"}
        </button>
      </div>
    </form>
  );
}
