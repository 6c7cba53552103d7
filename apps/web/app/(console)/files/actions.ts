"use server";

import { revalidatePath } from "next/cache";
import { api, mutate } from "@/lib/api";
import { apiBaseUrl } from "@/lib/config";
import { ApiResponseError, ApiUnreachableError } from "@/lib/errors";
import type { FormState } from "@/lib/mutation";
import { SHARE_EXPIRIES } from "@/lib/file-listing";
import { CREATE_FOLDER, DELETE_FOLDER, DELETE_OBJECT, DELETE_OBJECTS, MOVE_OBJECT, OBJECTS_UNDER, PRESIGNED_URL } from "@/lib/queries";

export type Outcome = { ok: true; message: string } | { ok: false; message: string };

function failed(error: unknown): Outcome {
  if (error instanceof ApiResponseError || error instanceof ApiUnreachableError) return { ok: false, message: error.message };
  throw error;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

export async function deleteObject(_previous: FormState, form: FormData): Promise<FormState> {
  const key = String(form.get("key") ?? "");
  const outcome = await mutate<unknown>(DELETE_OBJECT, { key });
  if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
  revalidatePath("/files");
  return { status: "ok", message: `Deleted ${key}.`, at: Date.now() };
}

export async function createFolder(_previous: FormState, form: FormData): Promise<FormState> {
  const prefix = String(form.get("prefix") ?? "");
  const name = String(form.get("name") ?? "").trim();
  if (!name) return { status: "error", field: "name", message: "Give the folder a name.", at: Date.now() };
  const outcome = await mutate<string>(CREATE_FOLDER, { folder: `${prefix}${name}` });
  if (!outcome.ok) return { status: "error", field: outcome.field ? "name" : undefined, message: outcome.message, at: Date.now() };
  revalidatePath("/files");
  return { status: "ok", message: `Created ${outcome.data}.`, at: Date.now() };
}

export async function moveObject(from: string, to: string): Promise<Outcome> {
  const outcome = await mutate<{ key: string }>(MOVE_OBJECT, { from, to });
  if (!outcome.ok) return { ok: false, message: outcome.message };
  revalidatePath("/files");
  return { ok: true, message: `Moved to ${outcome.data.key}.` };
}

export async function deleteObjects(keys: string[]): Promise<Outcome> {
  const outcome = await mutate<number>(DELETE_OBJECTS, { keys });
  if (!outcome.ok) return { ok: false, message: outcome.message };
  revalidatePath("/files");
  return { ok: true, message: `Deleted ${plural(outcome.data, "object")}.` };
}

/** How many objects deleting the folder would delete (all levels), before asking. */
export async function countFolder(folder: string): Promise<{ ok: true; count: number; more: boolean } | { ok: false; message: string }> {
  try {
    const { objectsUnder } = await api<{ objectsUnder: { count: number; more: boolean } }>(OBJECTS_UNDER, { folder });
    return { ok: true, ...objectsUnder };
  } catch (error) {
    return failed(error) as { ok: false; message: string };
  }
}

export async function deleteFolder(folder: string): Promise<Outcome> {
  const outcome = await mutate<number>(DELETE_FOLDER, { folder });
  if (!outcome.ok) return { ok: false, message: outcome.message };
  revalidatePath("/files");
  return { ok: true, message: `Deleted ${folder} (${plural(outcome.data, "object")}).` };
}

export type ShareLink = { ok: true; url: string; expiresIn: number } | { ok: false; message: string };

/** A presigned link anyone can open until it expires; relative links are made absolute against the API. */
export async function shareLink(key: string, expiresIn: number): Promise<ShareLink> {
  if (!SHARE_EXPIRIES.some((choice) => choice.seconds === expiresIn)) return { ok: false, message: "Choose one of the offered expiry times." };
  try {
    const { presignedUrl } = await api<{ presignedUrl: string | null }>(PRESIGNED_URL, { key, expiresIn });
    if (!presignedUrl) return { ok: false, message: `No object at ${key}.` };
    const base = process.env.API_PUBLIC_URL?.trim() || apiBaseUrl();
    return { ok: true, url: new URL(presignedUrl, `${base.replace(/\/+$/, "")}/`).toString(), expiresIn };
  } catch (error) {
    return failed(error) as { ok: false; message: string };
  }
}
