import { lookup } from "mime-types";

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/**
 * An object's content type, from its name (the last segment's extension, with the IANA/Apache
 * table of `mime-types`), never from whoever uploaded it: a file called `x.png` is served as
 * image/png, whatever bytes or header came with it. Unknown names are application/octet-stream.
 */
export function contentTypeOf(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  return (name.includes(".") && lookup(name)) || DEFAULT_CONTENT_TYPE;
}
