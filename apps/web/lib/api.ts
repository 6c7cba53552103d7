import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { apiBaseUrl, TOKEN_COOKIE } from "./config";
import { ApiAuthError, ApiResponseError, ApiUnreachableError } from "./errors";
import { readOutcome, type MutationOutcome, type MutationPayload } from "./mutation";
import { ME } from "./queries";
import type { Me, Role } from "./types";

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string };
}

type Variables = Record<string, unknown>;

const UNAUTHENTICATED_CODES = new Set(["UNAUTHENTICATED", "UNAUTHORIZED", "INVALID_TOKEN"]);
const FORBIDDEN_CODES = new Set(["FORBIDDEN", "NOT_AUTHORIZED"]);

/** One GraphQL request to the API with an explicit token; the building block for everything else. */
export async function requestGraphQL<T>(token: string | undefined, query: string, variables?: Variables): Promise<T> {
  const url = `${apiBaseUrl()}/graphql`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
    "x-graphql-yoga-csrf": "berth-console",
  };
  if (token) headers.authorization = `Bearer ${token}`;

  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }), cache: "no-store" });
  } catch (error) {
    throw new ApiUnreachableError(apiBaseUrl(), { cause: error });
  }

  let body: { data?: T | null; errors?: GraphQLErrorBody[] } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const errors = body?.errors ?? [];
  const codes = errors.map((e) => e.extensions?.code ?? "");
  const messages = errors.map((e) => e.message).join("; ");

  if (response.status === 401 || codes.some((c) => UNAUTHENTICATED_CODES.has(c))) {
    throw new ApiAuthError("unauthenticated", messages || "The API did not accept this token.");
  }
  if (response.status === 403 || codes.some((c) => FORBIDDEN_CODES.has(c))) {
    throw new ApiAuthError("forbidden", messages || "This token's role may not do that.");
  }
  if (!body) throw new ApiResponseError(`The API answered ${response.status} without a GraphQL body.`, response.status, []);
  if (errors.length > 0 || body.data == null) {
    throw new ApiResponseError(messages || "The API returned no data.", response.status, codes);
  }
  return body.data;
}

/** The token the signed-in operator gave, from the httpOnly cookie. */
export async function currentToken(): Promise<string | undefined> {
  return (await cookies()).get(TOKEN_COOKIE)?.value;
}

/**
 * A request on behalf of the signed-in operator. A refused token sends them back to sign-in,
 * so every page and action can assume a valid session past this call.
 */
export async function api<T>(query: string, variables?: Variables): Promise<T> {
  const token = await currentToken();
  if (!token) redirect("/sign-in");
  try {
    return await requestGraphQL<T>(token, query, variables);
  } catch (error) {
    if (error instanceof ApiAuthError && error.reason === "unauthenticated") redirect("/sign-in?expired=1");
    throw error;
  }
}

/** Who the token belongs to; deduplicated per request so the layout and the page share one call. */
export const getMe = cache(async (): Promise<Me> => {
  const { me } = await api<{ me: Me | null }>(ME);
  if (!me) redirect("/sign-in?expired=1");
  return me;
});

export function canOperate(role: Role): boolean {
  return role === "admin" || role === "operator";
}

export function isAdmin(role: Role): boolean {
  return role === "admin";
}

/**
 * Runs a mutation whose single root field answers with a result union, and turns every way it can
 * fail (typed error member, GraphQL error, unreachable API) into an outcome a form can show.
 */
export async function mutate<T>(document: string, variables: Variables): Promise<MutationOutcome<T>> {
  try {
    const data = await api<Record<string, MutationPayload<T>>>(document, variables);
    return readOutcome(Object.values(data)[0]);
  } catch (error) {
    if (error instanceof ApiResponseError || error instanceof ApiUnreachableError || error instanceof ApiAuthError) {
      return { ok: false, kind: error.name, message: error.message };
    }
    throw error;
  }
}
