"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { mutate } from "@/lib/api";
import type { FormState } from "@/lib/mutation";
import { CLEAR_LOST_POD, CREATE_POOL, DELETE_POD, DELETE_POOL, DRAIN_POD, SCALE_POOL, SUBMIT_TASK, UPDATE_POOL } from "@/lib/queries";
import { FormInputError, optionalInt, optionalText, requiredText } from "@/lib/form-input";
import { explainError, parseSetting, POOL_SETTINGS, SettingInputError } from "@/lib/pool-settings";

export interface PoolFormState extends FormState {
  values?: Record<string, string>;
}

function fail(message: string, values?: Record<string, string>, field?: string): PoolFormState {
  return { status: "error", message, values, field, at: Date.now() };
}

function ok(message: string): PoolFormState {
  return { status: "ok", message, at: Date.now() };
}

function formValues(form: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of form.entries()) if (typeof value === "string" && !name.startsWith("$")) values[name] = value;
  return values;
}

export async function createPool(_previous: PoolFormState, form: FormData): Promise<PoolFormState> {
  const values = formValues(form);
  let input: Record<string, unknown>;
  try {
    input = {
      name: requiredText(form, "name", "Name"),
      runtime: optionalText(form, "runtime"),
      image: optionalText(form, "image"),
      slotsPerPod: optionalInt(form, "slotsPerPod", "Slots per pod"),
      minPods: optionalInt(form, "minPods", "Min pods"),
      maxPods: optionalInt(form, "maxPods", "Max pods"),
      scaleUpAt: percentSetting(form, "scaleUpAt"),
      scaleDownAt: percentSetting(form, "scaleDownAt"),
      reservationTtlSeconds: optionalInt(form, "reservationTtlSeconds", "Reservation TTL"),
      autoscale: form.get("autoscale") === "on",
    };
  } catch (error) {
    if (error instanceof FormInputError || error instanceof SettingInputError) return fail(error.message, values, error.field);
    throw error;
  }
  const outcome = await mutate<{ name: string }>(CREATE_POOL, { input: dropUndefined(input) });
  if (!outcome.ok) return fail(explainError(outcome.field, outcome.message), values, outcome.field);
  revalidatePath("/pools");
  redirect(`/pools/${encodeURIComponent(outcome.data.name)}`);
}

/**
 * Saves the settings form: every setting of POOL_SETTINGS whose input differs from what the page
 * showed (`$initial:<name>`), so an untouched field is never sent (nor an admin-only one by others).
 */
export async function updatePool(_previous: PoolFormState, form: FormData): Promise<PoolFormState> {
  const name = String(form.get("pool") ?? "");
  const values = formValues(form);
  const input: Record<string, unknown> = {};
  try {
    for (const setting of POOL_SETTINGS) {
      const typed = setting.kind === "bool" ? (form.get(setting.name) === "on" ? "on" : "") : String(form.get(setting.name) ?? "");
      const initial = form.get(`$initial:${setting.name}`);
      if (initial === null || typed.trim() === String(initial).trim()) continue;
      const value = parseSetting(setting, typed);
      if (value !== undefined) input[setting.name] = value;
    }
  } catch (error) {
    if (error instanceof SettingInputError) return fail(error.message, values, error.field);
    throw error;
  }
  if (Object.keys(input).length === 0) return ok("Nothing changed.");
  const outcome = await mutate<{ minPods: number; maxPods: number; autoscale: boolean }>(UPDATE_POOL, { name, input });
  if (!outcome.ok) return fail(explainError(outcome.field, outcome.message), values, outcome.field);
  revalidatePath(`/pools/${encodeURIComponent(name)}`);
  const changed = POOL_SETTINGS.filter((s) => s.name in input).map((s) => s.label.toLowerCase());
  const d = outcome.data;
  return ok(`Saved: ${d.minPods}–${d.maxPods} pods, autoscale ${d.autoscale ? "on" : "off"} (changed: ${changed.join(", ")}).`);
}

interface ScaleResult {
  requested: number;
  /** Pods added or removed. */
  applied: number;
  /** Pods kept because a slot was running or reserved. */
  blockedPods: number;
  podCount: number;
}

export async function scalePool(_previous: PoolFormState, form: FormData): Promise<PoolFormState> {
  const name = String(form.get("pool") ?? "");
  let pods: number | undefined;
  try {
    pods = optionalInt(form, "pods", "Pods");
  } catch (error) {
    if (error instanceof FormInputError) return fail(error.message, formValues(form), error.field);
    throw error;
  }
  if (pods === undefined) return fail("Enter how many pods the pool should have.");
  const outcome = await mutate<ScaleResult>(SCALE_POOL, { name, pods });
  if (!outcome.ok) return fail(outcome.message, formValues(form), outcome.field);
  revalidatePath(`/pools/${encodeURIComponent(name)}`);
  const { requested, applied, blockedPods, podCount } = outcome.data;
  const plural = (n: number) => `${n} pod${n === 1 ? "" : "s"}`;
  const blocked = blockedPods > 0 ? ` Kept ${plural(blockedPods)} with a running or reserved slot.` : "";
  const changed = applied === 0 ? "nothing to change" : `${applied} changed`;
  return {
    status: podCount === requested ? "ok" : "error",
    message: `Now ${plural(podCount)} (asked for ${requested}; ${changed}).${blocked}`,
    at: Date.now(),
  };
}

export async function submitTask(_previous: PoolFormState, form: FormData): Promise<PoolFormState> {
  const pool = String(form.get("pool") ?? "");
  let type: string;
  let durationMs: number | undefined;
  try {
    type = requiredText(form, "type", "Type");
    durationMs = optionalInt(form, "durationMs", "Duration");
  } catch (error) {
    if (error instanceof FormInputError) return fail(error.message, undefined, error.field);
    throw error;
  }
  const payload = dropUndefined({ durationMs, fail: form.get("fail") === "on" ? true : undefined });
  const outcome = await mutate<{ id: string; type: string; status: string }>(SUBMIT_TASK, {
    input: { pool, type, payload },
  });
  if (!outcome.ok) return fail(outcome.message, undefined, outcome.field);
  revalidatePath(`/pools/${encodeURIComponent(pool)}`);
  return ok(`Submitted ${outcome.data.type} task ${outcome.data.id} (${outcome.data.status}).`);
}

const POD_ACTIONS = {
  drain: { document: DRAIN_POD, done: (pod: string, phase: string) => (phase === "Draining" ? `Draining ${pod}: it takes no new work and goes once idle.` : `Drained ${pod}: it was idle, so it is going now.`) },
  delete: { document: DELETE_POD, done: (pod: string) => `Deleting ${pod}.` },
  clear: { document: CLEAR_LOST_POD, done: (pod: string) => `Cleared the Lost pod ${pod}.` },
} as const;

/** Drain, delete (when idle) or clear (when Lost) one pod; the API's refusal comes back in words. */
export async function podAction(_previous: FormState, form: FormData): Promise<FormState> {
  const pool = String(form.get("pool") ?? "");
  const pod = String(form.get("pod") ?? "");
  const action = POD_ACTIONS[String(form.get("action") ?? "") as keyof typeof POD_ACTIONS];
  if (!action) return fail("Unknown pod action.");
  const outcome = await mutate<{ pod: string; phase: string }>(action.document, { pool, pod });
  if (!outcome.ok) return fail(outcome.message, undefined, outcome.field);
  revalidatePath(`/pools/${encodeURIComponent(pool)}`);
  return ok(action.done(pod, outcome.data.phase));
}

export async function deletePool(_previous: FormState, form: FormData): Promise<FormState> {
  const name = String(form.get("pool") ?? "");
  const outcome = await mutate<unknown>(DELETE_POOL, { name });
  if (!outcome.ok) return fail(outcome.message, undefined, outcome.field);
  revalidatePath("/pools");
  redirect("/pools");
}

/** A percentage typed as 80 (or "80 %"), as the API's fraction 0.8; undefined when empty. */
function percentSetting(form: FormData, name: string): number | undefined {
  const setting = POOL_SETTINGS.find((s) => s.name === name)!;
  return parseSetting(setting, String(form.get(name) ?? "")) as number | undefined;
}

function dropUndefined<T extends Record<string, unknown>>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}
