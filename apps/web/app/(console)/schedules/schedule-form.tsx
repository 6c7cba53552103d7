"use client";

import { useActionState, useEffect, useMemo, useState, useTransition } from "react";
import { FormMessage } from "@/components/form-message";
import { fieldProps } from "@/lib/form-fields";
import { describeSchedule } from "../cron/describe-schedule";
import { previewSchedule, saveSchedule, type PreviewResult, type ScheduleFormState } from "./actions";
import { OverlapOptions } from "./overlap-options";
import type { ScheduleView } from "./queries";
import { inZone } from "./zone-time";

const INITIAL: ScheduleFormState = { status: "idle" };

/** "2030-01-01T02:30:00" for a datetime-local input, in UTC. */
const utcInput = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().slice(0, 19) : "");

function zones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

/** The create form, or the edit form of `schedule`: live description and next fire times as you type. */
export function ScheduleForm({ pools, schedule }: { pools: string[]; schedule?: ScheduleView }) {
  const [state, action, pending] = useActionState(saveSchedule, INITIAL);
  const v = state.values;
  const [cron, setCron] = useState(v?.cron ?? schedule?.cron ?? "0 30 2 * * *");
  const [timeZone, setTimeZone] = useState(v?.timeZone ?? schedule?.timeZone ?? "UTC");
  const [startAt, setStartAt] = useState(v?.startAt ?? utcInput(schedule?.startAt));
  const [endAt, setEndAt] = useState(v?.endAt ?? utcInput(schedule?.endAt));
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [, startPreview] = useTransition();
  const zoneList = useMemo(zones, []);
  const description = describeSchedule(cron);

  useEffect(() => {
    const timer = setTimeout(() => {
      startPreview(async () => setPreview(await previewSchedule(cron, timeZone, startAt || null, endAt || null)));
    }, 300);
    return () => clearTimeout(timer);
  }, [cron, timeZone, startAt, endAt]);

  const prefix = schedule ? "edit" : "new";
  const field = (name: string) => fieldProps(state, name, `${prefix}-schedule-message`);
  const value = (name: keyof ScheduleView, fallback = "") => v?.[name] ?? (schedule?.[name] == null ? fallback : String(schedule[name]));

  return (
    <form action={action} className="form-grid" data-testid="schedule-form" noValidate>
      {schedule && <input type="hidden" name="$original" value={schedule.name} />}
      <label className="field">
        <span>Name</span>
        <input name="name" required defaultValue={value("name")} placeholder="nightly-plan" {...field("name")} />
      </label>
      <label className="field">
        <span>Pool</span>
        <select name="pool" defaultValue={value("pool", pools[0] ?? "")} {...field("pool")}>
          {pools.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Task type</span>
        <input name="taskType" required defaultValue={value("taskType", "plan")} {...field("taskType")} />
      </label>
      <label className="field field-wide">
        <span>Cron expression (seconds first when it has six fields)</span>
        <input name="cron" required value={cron} onChange={(e) => setCron(e.target.value)} className="mono" {...field("cron")} data-testid="schedule-cron" />
      </label>
      <label className="field">
        <span>Time zone</span>
        <input name="timeZone" list="time-zones" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} {...field("timeZone")} data-testid="schedule-time-zone" />
        <datalist id="time-zones">
          {zoneList.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </label>
      <div className="field field-wide" aria-live="polite" data-testid="schedule-preview">
        <span>When it fires</span>
        <p className="small" data-testid="schedule-description">
          {description ?? "An expression cronstrue cannot put in words."} {timeZone && <span className="muted">({timeZone})</span>}
        </p>
        {preview?.ok === false && (
          <p className="error-text small" role="alert" data-testid="schedule-preview-error">
            {preview.field ? <strong>{preview.field}: </strong> : null}
            {preview.message}
          </p>
        )}
        {preview?.ok && (
          <ol className="small mono" data-testid="schedule-next-fire-times">
            {preview.times.map((t) => (
              <li key={t} data-testid="next-fire-time" data-at={t}>
                {inZone(t, timeZone)}
              </li>
            ))}
          </ol>
        )}
      </div>
      <label className="field field-wide">
        <span>Payload (JSON)</span>
        <textarea name="payload" rows={3} className="mono" defaultValue={v?.payload ?? JSON.stringify(schedule?.payload ?? { durationMs: 1000 })} {...field("payload")} />
      </label>
      <label className="field field-wide">
        <span>While the previous task still runs</span>
        <select name="overlap" defaultValue={value("overlap", "skip")} {...field("overlap")} data-testid="schedule-overlap">
          <OverlapOptions />
        </select>
      </label>
      <label className="field">
        <span>Catch-up window (s)</span>
        <input name="catchupWindowSeconds" type="number" min={1} defaultValue={value("catchupWindowSeconds", "60")} {...field("catchupWindowSeconds")} />
      </label>
      <label className="field">
        <span>Jitter up to (s)</span>
        <input name="jitterSeconds" type="number" min={0} max={3600} defaultValue={value("jitterSeconds", "0")} {...field("jitterSeconds")} />
      </label>
      <label className="field">
        <span>Pause after failures</span>
        <input name="pauseAfterFailures" type="number" min={1} defaultValue={value("pauseAfterFailures")} {...field("pauseAfterFailures")} />
      </label>
      <label className="field">
        <span>Run limit</span>
        <input name="maxRuns" type="number" min={1} defaultValue={value("maxRuns")} {...field("maxRuns")} />
      </label>
      <label className="field">
        <span>Task deadline (s)</span>
        <input name="timeoutSeconds" type="number" min={1} defaultValue={value("timeoutSeconds")} {...field("timeoutSeconds")} />
      </label>
      <label className="field">
        <span>Concurrency key</span>
        <input name="concurrencyKey" defaultValue={value("concurrencyKey")} {...field("concurrencyKey")} />
      </label>
      <label className="field">
        <span>Start (UTC)</span>
        <input name="startAt" type="datetime-local" step={1} value={startAt} onChange={(e) => setStartAt(e.target.value)} {...field("startAt")} />
      </label>
      <label className="field">
        <span>End (UTC)</span>
        <input name="endAt" type="datetime-local" step={1} value={endAt} onChange={(e) => setEndAt(e.target.value)} {...field("endAt")} />
      </label>
      <div className="field-wide form-actions">
        <FormMessage state={state} id={`${prefix}-schedule-message`} testId="schedule-form-message" />
        <button type="submit" className="button button-primary" disabled={pending} data-testid="schedule-save">
          {pending ? "Saving…" : schedule ? "Save changes" : "Create schedule"}
        </button>
      </div>
    </form>
  );
}
