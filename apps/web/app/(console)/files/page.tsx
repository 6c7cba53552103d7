import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { api, canOperate, getMe } from "@/lib/api";
import { arrangeListing, listHref, readArrangement, type Arrangement } from "@/lib/file-listing";
import { crumbs, normalizePrefix } from "@/lib/object-keys";
import { OBJECTS } from "@/lib/queries";
import type { ObjectListing } from "@/lib/types";
import { EmptyState } from "@/components/empty-state";
import { TableSkeleton } from "@/components/skeleton";
import { FileTable } from "./file-table";
import { NewFolderForm } from "./new-folder-form";
import { Preview } from "./preview";
import { UploadBox } from "./upload-box";

export const metadata: Metadata = { title: "Files" };

/** Names per page of the browser; the API pages the folder in name order. */
const PAGE_SIZE = 100;
/** A search looks through this many names of the folder (one request). */
const SEARCH_SIZE = 1000;

function Pager({ prefix, arrangement, after, nextAfter }: { prefix: string; arrangement: Arrangement; after?: string; nextAfter: string | null }) {
  if (!after && !nextAfter) return null;
  return (
    <nav className="pagination" aria-label="Pages" data-testid="files-pager">
      {after ? (
        <Link href={listHref(prefix, arrangement)} className="button button-small" rel="first">
          ← First page
        </Link>
      ) : (
        <span className="button button-small" aria-disabled="true">
          ← First page
        </span>
      )}
      {nextAfter ? (
        <Link href={listHref(prefix, arrangement, { after: nextAfter })} className="button button-small" rel="next" data-testid="files-next">
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

async function Listing({ prefix, after, operator, arrangement }: { prefix: string; after?: string; operator: boolean; arrangement: Arrangement }) {
  const first = arrangement.q ? SEARCH_SIZE : PAGE_SIZE;
  const { objects: listing } = await api<{ objects: ObjectListing }>(OBJECTS, { prefix, first, after: after ?? null });
  const { folders, objects } = arrangeListing(listing, arrangement);
  if (arrangement.q && folders.length === 0 && objects.length === 0) {
    return (
      <EmptyState title={`Nothing here matches “${arrangement.q}”`} testId="files-empty">
        <Link href={listHref(prefix, { ...arrangement, q: undefined })}>Show the whole folder</Link>
      </EmptyState>
    );
  }
  if (folders.length === 0 && objects.length === 0 && after) {
    return (
      <EmptyState title="No more files here" testId="files-empty">
        <Link href={listHref(prefix, arrangement)}>Back to the first page</Link>
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
  const searchedPart = arrangement.q && listing.nextAfter ? <p className="small muted">Searched the first {SEARCH_SIZE.toLocaleString("en")} names of this folder.</p> : null;
  return (
    <>
      {searchedPart}
      <FileTable
        prefix={prefix}
        folders={folders}
        objects={objects}
        operator={operator}
        arrangement={arrangement}
        footer={arrangement.q ? null : <Pager prefix={prefix} arrangement={arrangement} after={after} nextAfter={listing.nextAfter} />}
      />
    </>
  );
}

function SearchForm({ prefix, arrangement }: { prefix: string; arrangement: Arrangement }) {
  return (
    <form action="/files" method="get" role="search" className="inline-form" data-testid="files-search">
      {prefix && <input type="hidden" name="prefix" value={prefix} />}
      {arrangement.sort !== "name" && <input type="hidden" name="sort" value={arrangement.sort} />}
      {arrangement.dir !== "asc" && <input type="hidden" name="dir" value={arrangement.dir} />}
      <label className="inline-label">
        <span>Search this folder</span>
        <input type="search" name="q" className="input input-small" defaultValue={arrangement.q ?? ""} maxLength={200} data-testid="files-search-input" />
      </label>
      <button type="submit" className="button button-small">
        Search
      </button>
      {arrangement.q && (
        <Link href={listHref(prefix, { ...arrangement, q: undefined })} className="button button-small">
          Clear
        </Link>
      )}
    </form>
  );
}

export default async function FilesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const prefix = normalizePrefix(one(params.prefix));
  const preview = one(params.preview) || undefined;
  const after = one(params.after) || undefined;
  const arrangement = readArrangement({ q: one(params.q), sort: one(params.sort), dir: one(params.dir) });
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
              {i === trail.length - 1 ? <span aria-current="page">{crumb.label}</span> : <Link href={listHref(crumb.prefix, arrangement)}>{crumb.label}</Link>}
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
        <div className="files-toolbar">
          <SearchForm prefix={prefix} arrangement={arrangement} />
          {operator && <NewFolderForm prefix={prefix} />}
        </div>
        <Suspense key={`${prefix}\n${after ?? ""}\n${arrangement.q ?? ""}`} fallback={<TableSkeleton rows={5} />}>
          <Listing prefix={prefix} after={after} operator={operator} arrangement={arrangement} />
        </Suspense>
      </section>
    </div>
  );
}
