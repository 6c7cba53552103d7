"use client";

import { useActionState } from "react";
import { FormMessage } from "@/components/form-message";
import { fieldProps } from "@/lib/form-fields";
import { displayValue, POOL_SETTINGS, SETTING_GROUPS, type PoolSetting } from "@/lib/pool-settings";
import { updatePool, type PoolFormState } from "../actions";

const INITIAL: PoolFormState = { status: "idle" };
const MESSAGE_ID = "update-pool-message";

/** Every setting of POOL_SETTINGS, grouped; only what was changed is sent. */
export function PoolSettingsForm({ pool, values, admin }: { pool: string; values: Record<string, unknown>; admin: boolean }) {
  const [state, save, saving] = useActionState(updatePool, INITIAL);
  const shown = Object.fromEntries(POOL_SETTINGS.map((s) => [s.name, displayValue(s, values[s.name])]));
  // After an answer the form is drawn again: with what was typed when refused, else what the API holds.
  const typed = state.status === "error" ? (state.values ?? {}) : {};
  return (
    <form key={`${state.at ?? 0}|${JSON.stringify(shown)}`} action={save} className="settings-form" data-testid="update-pool-form" noValidate>
      <input type="hidden" name="pool" value={pool} />
      {SETTING_GROUPS.map((group) => (
        <fieldset key={group} className="settings-group">
          <legend>{group}</legend>
          <div className="form-grid">
            {POOL_SETTINGS.filter((s) => s.group === group && (!s.adminOnly || admin)).map((s) => (
              <SettingInput key={s.name} setting={s} initial={shown[s.name]!} typed={typed[s.name]} state={state} />
            ))}
          </div>
        </fieldset>
      ))}
      <div className="form-actions">
        <FormMessage state={state} testId="update-pool-message" id={MESSAGE_ID} />
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? "Saving…" : "Save settings"}
        </button>
      </div>
    </form>
  );
}

function SettingInput({ setting: s, initial, typed, state }: { setting: PoolSetting; initial: string; typed: string | undefined; state: PoolFormState }) {
  const hint = s.help ?? (s.emptyMeans ? `Empty: ${s.emptyMeans}.` : undefined);
  const hintId = hint ? `setting-${s.name}-hint` : undefined;
  const common = { name: s.name, ...fieldProps(state, s.name, MESSAGE_ID), "data-testid": s.testId ?? `setting-${s.name}` };
  const described = [common["aria-describedby"], hintId].filter(Boolean).join(" ") || undefined;
  const initialInput = <input type="hidden" name={`$initial:${s.name}`} value={initial} />;
  if (s.kind === "bool") {
    return (
      <label className={`field field-check ${s.adminOnly ? "field-wide" : ""}`}>
        {initialInput}
        <input {...common} aria-describedby={described} type="checkbox" defaultChecked={(typed ?? initial) === "on"} />
        <span>{s.label}</span>
      </label>
    );
  }
  const value = typed ?? initial;
  let control;
  if (s.kind === "choice") {
    control = (
      <select {...common} aria-describedby={described} defaultValue={value}>
        {s.options!.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else if (s.kind === "json") {
    control = <textarea {...common} aria-describedby={described} defaultValue={value} rows={4} spellCheck={false} className="mono" />;
  } else if (s.kind === "text") {
    control = <input {...common} aria-describedby={described} defaultValue={value} autoComplete="off" />;
  } else {
    const unit = s.kind === "percent" ? "%" : s.kind === "seconds" ? "s" : null;
    control = (
      <span className="input-unit">
        <input {...common} aria-describedby={described} inputMode={s.kind === "percent" ? "decimal" : "numeric"} defaultValue={value} placeholder={s.emptyMeans} min={s.min} max={s.max} />
        {unit && <span aria-hidden="true">{unit}</span>}
      </span>
    );
  }
  return (
    <label className={`field ${s.kind === "json" ? "field-wide" : ""}`}>
      {initialInput}
      <span>
        {s.label}
        {s.kind === "percent" ? " (%)" : s.kind === "seconds" ? " (s)" : ""}
      </span>
      {control}
      {hint && (
        <small id={hintId} className="muted">
          {hint}
        </small>
      )}
    </label>
  );
}
