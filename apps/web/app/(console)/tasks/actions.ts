"use server";

import { revalidatePath } from "next/cache";
import { mutate } from "@/lib/api";
import type { FormState } from "@/lib/mutation";
import { CANCEL_TASK, REVIEW_APPROVE, REVIEW_REJECT } from "@/lib/queries";

const fail = (message: string, field?: string): FormState => ({ status: "error", message, field, at: Date.now() });
const ok = (message: string): FormState => ({ status: "ok", message, at: Date.now() });

/** Approves or rejects a plan (the button pressed says which), with the optional comment. */
export async function reviewTask(_previous: FormState, form: FormData): Promise<FormState> {
  const id = String(form.get("id") ?? "");
  const verdict = form.get("verdict") === "reject" ? "reject" : "approve";
  const comment = String(form.get("comment") ?? "").trim() || null;
  const outcome = await mutate<{ id: string; status: string }>(verdict === "reject" ? REVIEW_REJECT : REVIEW_APPROVE, { id, comment });
  if (!outcome.ok) return fail(outcome.message, outcome.field);
  // Every list that shows the task, and the count in the navigation.
  revalidatePath("/", "layout");
  return ok(verdict === "reject" ? "Rejected; the plan will not be applied." : `Approved; the task is ${outcome.data.status}.`);
}

export async function cancelTask(_previous: FormState, form: FormData): Promise<FormState> {
  const id = String(form.get("id") ?? "");
  const outcome = await mutate<{ id: string; status: string }>(CANCEL_TASK, { id });
  if (!outcome.ok) return fail(outcome.message, outcome.field);
  revalidatePath("/", "layout");
  return ok(`Cancelled; the task is ${outcome.data.status}.`);
}
