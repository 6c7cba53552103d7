"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { api, mutate } from "@/lib/api";
import { FormInputError, optionalInt, optionalText, requiredText } from "@/lib/form-input";
import type { FormState, MutationPayload } from "@/lib/mutation";
import { readOutcome } from "@/lib/mutation";
import {
  BACKFILL_SCHEDULE,
  CREATE_SCHEDULE,
  DELETE_SCHEDULE,
  PAUSE_SCHEDULE,
  RESUME_SCHEDULE,
  SCHEDULE_PREVIEW,
  TRIGGER_SCHEDULE,
  UPDATE_SCHEDULE,
} from "./queries";

export interface ScheduleFormState extends FormState {
  values?: Record<string, string>;
}

const fail = (message: string, field?: string, values?: Record<string, string>): ScheduleFormState => ({ status: "error", message, field, values, at: Date.now() });
const ok = (message: string): ScheduleFormState => ({ status: "ok", message, at: Date.now() });

function formValues(form: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of form.entries()) if (typeof value === "string" && !name.startsWith("$")) values[name] = value;
  return values;
}

/** "2030-01-01T02:30" from a datetime-local input, read as UTC. */
function optionalUtc(form: FormData, name: string, label: string): string | null {
  const value = optionalText(form, name);
  if (!value) return null;
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(d.getTime())) throw new FormInputError(name, `${label} must be a date and time.`);
  return d.toISOString();
}

function readDefinition(form: FormData): Record<string, unknown> {
  const payloadText = optionalText(form, "payload");
  let payload: unknown = {};
  if (payloadText) {
    try {
      payload = JSON.parse(payloadText);
    } catch {
      throw new FormInputError("payload", "Payload must be JSON, for example {\"workspace\": \"x\"}.");
    }
  }
  return {
    name: requiredText(form, "name", "Name"),
    cron: requiredText(form, "cron", "Cron expression"),
    timeZone: optionalText(form, "timeZone") ?? "UTC",
    pool: requiredText(form, "pool", "Pool"),
    taskType: requiredText(form, "taskType", "Task type"),
    payload,
    overlap: optionalText(form, "overlap") ?? "skip",
    catchupWindowSeconds: optionalInt(form, "catchupWindowSeconds", "Catch-up window") ?? 60,
    jitterSeconds: optionalInt(form, "jitterSeconds", "Jitter") ?? 0,
    timeoutSeconds: optionalInt(form, "timeoutSeconds", "Task deadline") ?? null,
    concurrencyKey: optionalText(form, "concurrencyKey") ?? null,
    maxRuns: optionalInt(form, "maxRuns", "Run limit") ?? null,
    pauseAfterFailures: optionalInt(form, "pauseAfterFailures", "Pause after failures") ?? null,
    startAt: optionalUtc(form, "startAt", "Start"),
    endAt: optionalUtc(form, "endAt", "End"),
  };
}

export async function saveSchedule(_previous: ScheduleFormState, form: FormData): Promise<ScheduleFormState> {
  const values = formValues(form);
  const original = optionalText(form, "$original");
  let input: Record<string, unknown>;
  try {
    input = readDefinition(form);
  } catch (error) {
    if (error instanceof FormInputError) return fail(error.message, error.field, values);
    throw error;
  }
  const outcome = original
    ? await mutate<{ name: string }>(UPDATE_SCHEDULE, { name: original, input })
    : await mutate<{ name: string }>(CREATE_SCHEDULE, { input });
  if (!outcome.ok) return fail(outcome.message, outcome.field, values);
  revalidatePath("/schedules");
  if (original && original === outcome.data.name) {
    revalidatePath(`/schedules/${encodeURIComponent(original)}`);
    return ok("Saved: every replica uses it from its next dispatch pass.");
  }
  redirect(`/schedules/${encodeURIComponent(outcome.data.name)}`);
}

export type PreviewResult = { ok: true; times: string[] } | { ok: false; field?: string; message: string };

/** The next fire times of what the form holds, for the live preview. */
export async function previewSchedule(cron: string, timeZone: string, startAt: string | null, endAt: string | null): Promise<PreviewResult> {
  if (!cron.trim()) return { ok: false, field: "cron", message: "Enter a cron expression." };
  const toUtc = (v: string | null) => (v ? new Date(/[zZ]$/.test(v) ? v : `${v}Z`).toISOString() : null);
  let startIso: string | null;
  let endIso: string | null;
  try {
    startIso = toUtc(startAt);
    endIso = toUtc(endAt);
  } catch {
    return { ok: false, message: "Start and end must be dates and times." };
  }
  const data = await api<{ schedulePreview: MutationPayload<string[]> }>(SCHEDULE_PREVIEW, { cron, timeZone: timeZone || "UTC", startAt: startIso, endAt: endIso, count: 5 });
  const outcome = readOutcome(data.schedulePreview);
  return outcome.ok ? { ok: true, times: outcome.data } : { ok: false, field: outcome.field, message: outcome.message };
}

export async function scheduleAction(_previous: FormState, form: FormData): Promise<FormState> {
  const name = String(form.get("name") ?? "");
  const verb = String(form.get("verb") ?? "");
  const path = `/schedules/${encodeURIComponent(name)}`;
  const done = (message: string): FormState => {
    revalidatePath("/schedules");
    revalidatePath(path);
    return { status: "ok", message, at: Date.now() };
  };
  if (verb === "pause") {
    const outcome = await mutate(PAUSE_SCHEDULE, { name, note: optionalText(form, "note") ?? null });
    return outcome.ok ? done("Paused.") : { status: "error", message: outcome.message, field: outcome.field, at: Date.now() };
  }
  if (verb === "resume") {
    const outcome = await mutate(RESUME_SCHEDULE, { name });
    return outcome.ok ? done("Resumed: it fires from its next fire time.") : { status: "error", message: outcome.message, at: Date.now() };
  }
  if (verb === "trigger") {
    const outcome = await mutate<{ id: string; status: string; note: string | null; task: { id: string } | null }>(TRIGGER_SCHEDULE, { name });
    if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
    const run = outcome.data;
    return done(run.task ? `Submitted task ${run.task.id}.` : `Run ${run.status}${run.note ? `: ${run.note}` : "."}`);
  }
  if (verb === "delete") {
    const outcome = await mutate(DELETE_SCHEDULE, { name });
    if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
    revalidatePath("/schedules");
    redirect("/schedules");
  }
  return { status: "error", message: `Unknown action ${verb}.`, at: Date.now() };
}

export async function backfillSchedule(_previous: FormState, form: FormData): Promise<FormState> {
  const name = String(form.get("name") ?? "");
  let from: string | null;
  let to: string | null;
  try {
    from = optionalUtc(form, "from", "From");
    to = optionalUtc(form, "to", "To");
  } catch (error) {
    if (error instanceof FormInputError) return { status: "error", message: error.message, field: error.field, at: Date.now() };
    throw error;
  }
  if (!from || !to) return { status: "error", message: "Give the range to backfill: from and to.", field: from ? "to" : "from", at: Date.now() };
  const overlap = optionalText(form, "overlap") ?? null;
  const outcome = await mutate<{ fireTimes: number; submitted: number; buffered: number; skipped: number; alreadyRecorded: number }>(BACKFILL_SCHEDULE, { name, from, to, overlap });
  if (!outcome.ok) return { status: "error", message: outcome.message, field: outcome.field, at: Date.now() };
  revalidatePath(`/schedules/${encodeURIComponent(name)}`);
  const r = outcome.data;
  return {
    status: "ok",
    message: `${r.fireTimes} fire time(s): ${r.submitted} submitted, ${r.buffered} buffered, ${r.skipped} skipped, ${r.alreadyRecorded} already recorded.`,
    at: Date.now(),
  };
}
