"use server";

import { revalidatePath } from "next/cache";
import { mutate } from "@/lib/api";
import type { FormState } from "@/lib/mutation";
import { CREATE_API_TOKEN, REVOKE_API_TOKEN } from "@/lib/queries";

export interface TokenFormState extends FormState {
  /** The new token's secret, shown once. */
  secret?: string;
}

export async function createToken(_previous: TokenFormState, form: FormData): Promise<TokenFormState> {
  const name = String(form.get("name") ?? "").trim();
  const role = String(form.get("role") ?? "");
  if (!name) return { status: "error", message: "Give the token a name that says who uses it.", at: Date.now() };
  const outcome = await mutate<{ name: string; role: string; token: string }>(CREATE_API_TOKEN, { name, role });
  if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
  revalidatePath("/tokens");
  return { status: "ok", message: `Created ${outcome.data.role} token “${outcome.data.name}”. Copy it now: it is not shown again.`, secret: outcome.data.token, at: Date.now() };
}

export async function revokeToken(_previous: FormState, form: FormData): Promise<FormState> {
  const id = String(form.get("id") ?? "");
  const outcome = await mutate<unknown>(REVOKE_API_TOKEN, { id });
  if (!outcome.ok) return { status: "error", message: outcome.message, at: Date.now() };
  revalidatePath("/tokens");
  return { status: "ok", message: "Revoked.", at: Date.now() };
}
