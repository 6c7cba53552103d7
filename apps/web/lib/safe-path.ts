/** Only same-site paths are followed after sign-in, so a crafted link cannot send an operator elsewhere. */
export function safeNextPath(value: unknown, fallback = "/pools"): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  if (value.startsWith("/sign-in")) return fallback;
  return value;
}
