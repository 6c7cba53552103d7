import Link from "next/link";
import { api } from "@/lib/api";
import { bytes } from "@/lib/format";
import { basename, browseHref, fileHref, previewKind } from "@/lib/object-keys";
import { readObjectText } from "@/lib/object-text";
import { OBJECT_METADATA } from "@/lib/queries";
import type { StoredObject } from "@/lib/types";
import { Time } from "@/components/time";

const TEXT_LIMIT = 64 * 1024;

export async function Preview({ objectKey, prefix }: { objectKey: string; prefix: string }) {
  const { object } = await api<{ object: StoredObject | null }>(OBJECT_METADATA, { key: objectKey });
  const close = (
    <Link href={browseHref(prefix)} className="button button-small" scroll={false}>
      Close preview
    </Link>
  );
  if (!object) {
    return (
      <section className="card preview" data-testid="preview">
        <p>
          <strong>{objectKey}</strong> no longer exists.
        </p>
        {close}
      </section>
    );
  }
  const kind = previewKind(object.key, object.contentType);
  const text = kind === "text" ? await readObjectText(object.key, TEXT_LIMIT) : null;
  return (
    <section className="card preview" aria-labelledby="preview-heading" data-testid="preview" data-kind={kind}>
      <div className="card-header">
        <h2 id="preview-heading" className="card-title mono">
          {basename(object.key)}
        </h2>
        <span className="muted small">
          {bytes(object.size)} · {object.contentType ?? "unknown type"} · <Time iso={object.lastModified} />
        </span>
        <a href={fileHref(object.key)} className="button button-small" download>
          Download
        </a>
        {close}
      </div>
      {kind === "image" && (
        <img src={fileHref(object.key, true)} alt={`Preview of ${basename(object.key)}`} className="preview-image" data-testid="preview-image" />
      )}
      {kind === "text" &&
        (text ? (
          <>
            <pre className="preview-text" data-testid="preview-text">
              {text.text}
            </pre>
            {text.truncated && <p className="muted small">Showing the first {bytes(TEXT_LIMIT)}; download the file for the rest.</p>}
          </>
        ) : (
          <p className="muted">The file could not be read for a preview.</p>
        ))}
      {kind === "none" && <p className="muted">No preview for this type of file. Download it to open it.</p>}
    </section>
  );
}
