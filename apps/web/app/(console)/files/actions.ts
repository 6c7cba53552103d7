"use server";

import { revalidatePath } from "next/cache";
import { api, mutate } from "@/lib/api";
import { apiBaseUrl } from "@/lib/config";
import { ApiResponseError, ApiUnreachableError } from "@/lib/errors";
import type { FormState } from "@/lib/mutation";
import { DELETE_OBJECT, PRESIGNED_URL } from "@/lib/queries";

export async function deleteObject(_previous: FormState, form: FormData): Promise<FormState> {
  const key = String(form.get("key") ?? "");
  const outcome = await mutate<unknown>(DELETE_OBJECT, { key });
  if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
  revalidatePath("/files");
  return { status: "ok", message: `Deleted ${key}.`, at: Date.now() };
}

export type ShareLink = { ok: true; url: string; expiresIn: number } | { ok: false; message: string };

const SHARE_SECONDS = 3600;

/** A presigned link anyone can open until it expires; relative links are made absolute against the API. */
export async function shareLink(key: string): Promise<ShareLink> {
  try {
    const { presignedUrl } = await api<{ presignedUrl: string | null }>(PRESIGNED_URL, { key, expiresIn: SHARE_SECONDS });
    if (!presignedUrl) return { ok: false, message: `No object at ${key}.` };
    const base = process.env.API_PUBLIC_URL?.trim() || apiBaseUrl();
    return { ok: true, url: new URL(presignedUrl, `${base.replace(/\/+$/, "")}/`).toString(), expiresIn: SHARE_SECONDS };
  } catch (error) {
    if (error instanceof ApiResponseError || error instanceof ApiUnreachableError) return { ok: false, message: error.message };
    throw error;
  }
}
