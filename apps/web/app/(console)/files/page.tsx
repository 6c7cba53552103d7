import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { bytes, dateTime } from "@/lib/format";
import { basename, browseHref, crumbs, fileHref, normalizePrefix } from "@/lib/object-keys";
import { OBJECTS } from "@/lib/queries";
import type { ObjectListing } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { DataTable } from "@/components/data-table";
import { TableSkeleton } from "@/components/skeleton";
import { DeleteObjectButton, ShareLinkButton } from "./object-actions";
import { Preview } from "./preview";
import { UploadBox } from "./upload-box";

export const metadata: Metadata = { title: "Files" };

/** Names per page of the browser; the API pages the folder in name order. */
const PAGE_SIZE = 100;

function Pager({ prefix, after, nextAfter }: { prefix: string; after?: string; nextAfter: string | null }) {
  if (!after && !nextAfter) return null;
  return (
    <nav className="pagination" aria-label="Pages" data-testid="files-pager">
      {after ? (
        <Link href={browseHref(prefix)} className="button button-small" rel="first">
          ← First page
        </Link>
      ) : (
        <span className="button button-small" aria-disabled="true">
          ← First page
        </span>
      )}
      {nextAfter ? (
        <Link href={browseHref(prefix, undefined, nextAfter)} className="button button-small" rel="next" data-testid="files-next">
          Next page →
        </Link>
      ) : (
        <span className="button button-small" aria-disabled="true">
          Next page →
        </span>
      )}
    </nav>
  );
}

async function Listing({ prefix, after, operator }: { prefix: string; after?: string; operator: boolean }) {
  const { objects: listing } = await api<{ objects: ObjectListing }>(OBJECTS, { prefix, first: PAGE_SIZE, after: after ?? null });
  const folders = [...listing.folders].sort();
  const objects = [...listing.objects].sort((a, b) => a.key.localeCompare(b.key));
  if (folders.length === 0 && objects.length === 0 && after) {
    return (
      <EmptyState title="No more files here" testId="files-empty">
        <Link href={browseHref(prefix)}>Back to the first page</Link>
      </EmptyState>
    );
  }
  if (folders.length === 0 && objects.length === 0) {
    return (
      <EmptyState title={prefix ? "This folder is empty" : "No files stored yet"} testId="files-empty">
        {operator ? "Drop files on the box above, or choose them, to upload here." : "An operator can upload files here."}
      </EmptyState>
    );
  }
  return (
    <DataTable columns={["Name", "Size", "Type", "Modified", "Actions"]} testId="files-table" footer={<Pager prefix={prefix} after={after} nextAfter={listing.nextAfter} />}>
      {folders.map((folder) => (
        <tr key={folder} data-testid="folder-row" data-prefix={folder}>
          <td>
            <Link href={browseHref(folder)} className="folder-link">
              <span aria-hidden="true">📁 </span>
              {basename(folder)}/
            </Link>
          </td>
          <td colSpan={4} className="muted">
            folder
          </td>
        </tr>
      ))}
      {objects.map((object) => (
        <tr key={object.key} data-testid="object-row" data-key={object.key}>
          <td className="mono">
            <Link href={browseHref(prefix, object.key)} scroll={false} title="Preview">
              {basename(object.key)}
            </Link>
          </td>
          <td>{bytes(object.size)}</td>
          <td className="small">{object.contentType ?? "–"}</td>
          <td className="small">{dateTime(object.lastModified)}</td>
          <td>
            <div className="row-actions">
              <Link href={browseHref(prefix, object.key)} className="button button-small" scroll={false} data-testid="preview-object">
                Preview
              </Link>
              <a href={fileHref(object.key)} className="button button-small" download data-testid="download-object">
                Download
              </a>
              <ShareLinkButton objectKey={object.key} />
              {operator && <DeleteObjectButton objectKey={object.key} />}
            </div>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

export default async function FilesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const prefix = normalizePrefix(one(params.prefix));
  const preview = one(params.preview) || undefined;
  const after = one(params.after) || undefined;
  const me = await getMe();
  const operator = canOperate(me.role);
  const trail = crumbs(prefix);
  return (
    <div className="page">
      <header className="page-header">
        <h1 className="page-title">Files</h1>
        <nav aria-label="Folder" className="breadcrumbs" data-testid="breadcrumbs">
          {trail.map((crumb, i) => (
            <span key={crumb.prefix}>
              {i > 0 && <span aria-hidden="true"> / </span>}
              {i === trail.length - 1 ? <span aria-current="page">{crumb.label}</span> : <Link href={browseHref(crumb.prefix)}>{crumb.label}</Link>}
            </span>
          ))}
        </nav>
      </header>
      {operator && (
        <section className="card" aria-label="Upload">
          <UploadBox prefix={prefix} />
        </section>
      )}
      {preview && (
        <Suspense key={preview} fallback={<TableSkeleton rows={3} />}>
          <Preview objectKey={preview} prefix={prefix} />
        </Suspense>
      )}
      <section className="card" aria-label="Folder contents">
        <Suspense key={`${prefix}\n${after ?? ""}`} fallback={<TableSkeleton rows={5} />}>
          <Listing prefix={prefix} after={after} operator={operator} />
        </Suspense>
      </section>
    </div>
  );
}
