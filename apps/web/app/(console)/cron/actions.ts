"use server";

import { revalidatePath } from "next/cache";
import { mutate } from "@/lib/api";
import type { FormState } from "@/lib/mutation";
import { PAUSE_CRON_JOB, RESUME_CRON_JOB, TRIGGER_CRON_JOB } from "@/lib/queries";

const DOCUMENTS = { pause: PAUSE_CRON_JOB, resume: RESUME_CRON_JOB, trigger: TRIGGER_CRON_JOB } as const;

export async function cronJobAction(_previous: FormState, form: FormData): Promise<FormState> {
  const name = String(form.get("name") ?? "");
  const verb = String(form.get("verb") ?? "") as keyof typeof DOCUMENTS;
  const document = DOCUMENTS[verb];
  if (!document) return { status: "error", message: `Unknown action ${verb}.`, at: Date.now() };
  const outcome = await mutate<{ id?: string; status?: string; paused?: boolean }>(document, { name });
  if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
  revalidatePath("/cron");
  const message =
    verb === "trigger" ? `Started run ${outcome.data.id ?? ""} (${outcome.data.status ?? "running"}).` : verb === "pause" ? "Paused." : "Resumed.";
  return { status: "ok", message, at: Date.now() };
}
