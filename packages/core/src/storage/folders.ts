import { InvalidKeyError } from "./errors.js";
import { validateKey } from "./keys.js";

/** The zero-byte object that makes an empty folder visible on every backend. */
export const FOLDER_MARKER = ".keep";

/** The most objects one bulk delete (of keys or of a folder) touches. */
export const MAX_BULK_OBJECTS = 1000;

/** "reports" or "reports/" → "reports/": the folder's prefix, validated as a key. */
export function folderPrefix(folder: unknown): string {
  if (typeof folder !== "string") return validateKey(folder);
  const bare = folder.endsWith("/") ? folder.slice(0, -1) : folder;
  if (bare === "") throw new InvalidKeyError(folder, "empty", "it names no folder (the root cannot be deleted or created)");
  return `${validateKey(bare)}/`;
}

export function folderMarkerKey(folder: string): string {
  return validateKey(`${folderPrefix(folder)}${FOLDER_MARKER}`);
}
