import { CONSOLE_HEADER } from "../proxy-headers";

export interface UploadResult {
  key: string;
  size: number;
}

export class UploadError extends Error {
  override readonly name = "UploadError";
}

/** The console's upload route for a key: each segment encoded, slashes kept. */
export function uploadPath(key: string): string {
  return `/api/files/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Uploads one file as a streamed PUT through the console's proxy to the API's `PUT /files/<key>`,
 * so no server holds it in memory. XMLHttpRequest, not fetch, because only it reports upload progress.
 */
export function uploadObject(key: string, file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", uploadPath(key));
    xhr.setRequestHeader(CONSOLE_HEADER, "1");
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new UploadError("The upload was interrupted (network error)."));
    xhr.onabort = () => reject(new UploadError("Upload cancelled."));
    xhr.onload = () => {
      if (xhr.status === 401) {
        window.location.assign("/sign-in?expired=1");
        return reject(new UploadError("Signed out."));
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          const saved = JSON.parse(xhr.responseText) as UploadResult;
          onProgress(1);
          return resolve({ key: saved.key, size: saved.size });
        } catch {
          return reject(new UploadError("The API answered the upload with something unexpected."));
        }
      }
      let message = xhr.responseText.trim();
      try {
        const parsed = JSON.parse(message) as { message?: string; errors?: { message: string }[] };
        message = parsed.errors?.[0]?.message ?? parsed.message ?? message;
      } catch {
        // A plain-text reason, as the API's file route sends.
      }
      reject(new UploadError(message || `Upload failed (HTTP ${xhr.status}).`));
    };
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
