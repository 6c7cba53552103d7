"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { requestGraphQL } from "@/lib/api";
import { TOKEN_COOKIE } from "@/lib/config";
import { ApiAuthError, ApiResponseError, ApiUnreachableError } from "@/lib/errors";
import type { FormState } from "@/lib/mutation";
import { ME } from "@/lib/queries";
import { safeNextPath } from "@/lib/safe-path";
import type { Me } from "@/lib/types";

const THIRTY_DAYS = 60 * 60 * 24 * 30;

export async function signIn(_previous: FormState, form: FormData): Promise<FormState> {
  const token = String(form.get("token") ?? "").trim();
  if (!token) return { status: "error", message: "Paste an API token to sign in.", at: Date.now() };

  let me: Me | null;
  try {
    ({ me } = await requestGraphQL<{ me: Me | null }>(token, ME));
  } catch (error) {
    if (error instanceof ApiUnreachableError) {
      return { status: "error", message: `${error.message} Start it, or check API_URL, then try again.`, at: Date.now() };
    }
    // The API limits attempts without a valid token per address; the console's are the console's.
    if (error instanceof ApiResponseError && error.codes.includes("RATE_LIMITED")) {
      return { status: "error", message: `Too many sign-in attempts. ${error.message.replace(/^.*?try again/, "Try again")}.`, at: Date.now() };
    }
    if (error instanceof ApiAuthError) {
      return { status: "error", message: "The API did not accept this token. Check that it was copied whole and has not been revoked.", at: Date.now() };
    }
    return { status: "error", message: `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`, at: Date.now() };
  }
  if (!me) return { status: "error", message: "The API did not accept this token. Check that it was copied whole and has not been revoked.", at: Date.now() };
  if (me.role === "agent") {
    return { status: "error", message: "This is an agent token. Sign in with an admin, operator or viewer token.", at: Date.now() };
  }

  const secure = (await headers()).get("x-forwarded-proto") === "https";
  (await cookies()).set(TOKEN_COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: THIRTY_DAYS });
  redirect(safeNextPath(form.get("next")));
}

export async function signOut(): Promise<void> {
  (await cookies()).delete(TOKEN_COOKIE);
  redirect("/sign-in");
}
