/** Where the Berth API listens, read at request time so one build serves any deployment. */
export function apiBaseUrl(): string {
  const explicit = process.env.API_URL?.trim();
  if (explicit) return explicit.replace(/\/+$/, "");
  return `http://127.0.0.1:${process.env.API_PORT ?? "4000"}`;
}

export const TOKEN_COOKIE = "berth_token";
