import { api } from "./api";
import { apiBaseUrl } from "./config";
import { PRESIGNED_URL } from "./queries";

export interface TextPreview {
  text: string;
  truncated: boolean;
}

/** The first `limit` bytes of an object as text, read through a short-lived signed link. */
export async function readObjectText(key: string, limit: number): Promise<TextPreview | null> {
  const { presignedUrl } = await api<{ presignedUrl: string | null }>(PRESIGNED_URL, { key, expiresIn: 60 });
  if (!presignedUrl) return null;
  const response = await fetch(new URL(presignedUrl, `${apiBaseUrl()}/`), { cache: "no-store" });
  if (!response.ok || !response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= limit) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder("utf-8", { fatal: false }).decode(all.subarray(0, limit)), truncated };
}
