// Object keys as the file browser shows them: folders are key prefixes ending in "/".

export function normalizePrefix(raw: string | undefined): string {
  const trimmed = (raw ?? "").replace(/^\/+/, "");
  if (!trimmed) return "";
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

export function basename(key: string): string {
  const parts = key.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] ?? key;
}

export interface Crumb {
  label: string;
  prefix: string;
}

/** "a/b/" → Files, a, b — each with the prefix it opens. */
export function crumbs(prefix: string): Crumb[] {
  const out: Crumb[] = [{ label: "Files", prefix: "" }];
  let acc = "";
  for (const part of prefix.split("/").filter(Boolean)) {
    acc += `${part}/`;
    out.push({ label: part, prefix: acc });
  }
  return out;
}

/** The console's download route for a key; each segment is escaped, the slashes kept. */
export function fileHref(key: string, inline = false): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  return `/api/files/${path}${inline ? "?inline=1" : ""}`;
}

export function browseHref(prefix: string, preview?: string, after?: string | null): string {
  const params = new URLSearchParams();
  if (prefix) params.set("prefix", prefix);
  if (preview) params.set("preview", preview);
  if (after) params.set("after", after);
  const q = params.toString();
  return q ? `/files?${q}` : "/files";
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|x-sh|toml|sql|graphql|ld\+json))/i;
const TEXT_EXTENSIONS = /\.(txt|md|log|json|ya?ml|toml|csv|tsv|xml|ini|conf|cfg|sh|ts|js|tf|tfvars|hcl|sql|graphql|env)$/i;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|avif|bmp)$/i;

export type PreviewKind = "image" | "text" | "none";

export function previewKind(key: string, contentType: string | null): PreviewKind {
  const type = (contentType ?? "").split(";")[0]!.trim();
  if (IMAGE_TYPES.test(type)) return "image";
  if (TEXT_TYPES.test(type) || TEXT_EXTENSIONS.test(key)) return "text";
  return "none";
}
