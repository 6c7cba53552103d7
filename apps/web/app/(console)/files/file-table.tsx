"use client";

import Link from "next/link";
import { useState, useTransition, type ReactNode } from "react";
import { listHref, sortHref, type Arrangement, type SortColumn } from "@/lib/file-listing";
import { bytes } from "@/lib/format";
import { basename, fileHref } from "@/lib/object-keys";
import type { StoredObject } from "@/lib/types";
import { FolderIcon } from "@/components/folder-icon";
import { Time } from "@/components/time";
import { deleteObjects, type Outcome } from "./actions";
import { DeleteFolderButton, DeleteObjectButton, RenameButton } from "./object-actions";
import { ShareLinkButton } from "./share-link";

interface Props {
  prefix: string;
  folders: string[];
  objects: StoredObject[];
  operator: boolean;
  arrangement: Arrangement;
  footer?: ReactNode;
}

function SortHeading({ label, column, prefix, arrangement }: { label: string; column: SortColumn; prefix: string; arrangement: Arrangement }) {
  const active = arrangement.sort === column;
  const sort = active ? (arrangement.dir === "asc" ? "ascending" : "descending") : undefined;
  return (
    <th scope="col" aria-sort={sort}>
      <Link href={sortHref(prefix, arrangement, column)} className="sort-link" data-testid={`sort-${column}`}>
        {label}
        <span aria-hidden="true">{active ? (arrangement.dir === "asc" ? " ▲" : " ▼") : ""}</span>
      </Link>
    </th>
  );
}

/** The folder's table: sortable columns, a selection for bulk deletes, per-row actions. */
export function FileTable({ prefix, folders, objects, operator, arrangement, footer }: Props) {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [asking, setAsking] = useState(false);
  const [pending, start] = useTransition();
  // Only what is on the page can be selected: a key deleted or moved since drops out.
  const chosen = objects.map((o) => o.key).filter((key) => selected.has(key));
  const allChosen = objects.length > 0 && chosen.length === objects.length;

  const choose = (next: ReadonlySet<string>) => {
    setSelected(next);
    setOutcome(null); // a message about the previous selection no longer applies
    setAsking(false);
  };
  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    choose(next);
  };
  const done = (result: Outcome) => {
    setSelected(new Set());
    setAsking(false);
    setOutcome(result);
  };

  return (
    <>
      {operator && (
        <div className="bulk-bar" data-testid="bulk-bar">
          <span className="small muted" aria-live="polite">
            {chosen.length > 0 ? `${chosen.length} selected` : "Select files to delete several at once."}
          </span>
          {chosen.length > 0 && !asking && (
            <button type="button" className="button button-small button-danger" onClick={() => setAsking(true)} data-testid="delete-selected">
              Delete selected ({chosen.length})
            </button>
          )}
          {asking && (
            <span className="confirm" role="group" aria-label="Delete the selected files">
              <span className="small">
                Delete {chosen.length} file{chosen.length === 1 ? "" : "s"} for good?
              </span>
              <button type="button" className="button button-small button-danger" disabled={pending} autoFocus data-testid="delete-selected-confirm" onClick={() => start(async () => done(await deleteObjects(chosen)))}>
                {pending ? "Deleting…" : "Delete"}
              </button>
              <button type="button" className="button button-small" onClick={() => setAsking(false)} disabled={pending}>
                Keep
              </button>
            </span>
          )}
          {outcome && (
            <span role={outcome.ok ? "status" : "alert"} className={`small ${outcome.ok ? "ok-text" : "error-text"}`} data-testid="files-message">
              {outcome.message}
            </span>
          )}
        </div>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Folder contents">
        <table className="table files-table" data-testid="files-table">
          <thead>
            <tr>
              {operator && (
                <th scope="col" className="select-cell">
                  <input type="checkbox" aria-label="Select every file on this page" checked={allChosen} disabled={objects.length === 0} onChange={() => choose(allChosen ? new Set() : new Set(objects.map((o) => o.key)))} data-testid="select-all" />
                </th>
              )}
              <SortHeading label="Name" column="name" prefix={prefix} arrangement={arrangement} />
              <SortHeading label="Size" column="size" prefix={prefix} arrangement={arrangement} />
              <th scope="col">Type</th>
              <SortHeading label="Modified" column="modified" prefix={prefix} arrangement={arrangement} />
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {folders.map((folder) => (
              <tr key={folder} data-testid="folder-row" data-prefix={folder}>
                {operator && <td className="select-cell" />}
                <td>
                  <Link href={listHref(folder, { sort: arrangement.sort, dir: arrangement.dir })} className="folder-link">
                    <FolderIcon />
                    {basename(folder)}/
                  </Link>
                </td>
                <td className="muted">–</td>
                <td className="muted small">folder</td>
                <td className="muted">–</td>
                <td>{operator && <DeleteFolderButton folder={folder} onDone={done} />}</td>
              </tr>
            ))}
            {objects.map((object) => (
              <tr key={object.key} data-testid="object-row" data-key={object.key}>
                {operator && (
                  <td className="select-cell">
                    <input type="checkbox" aria-label={`Select ${basename(object.key)}`} checked={selected.has(object.key)} onChange={() => toggle(object.key)} data-testid="select-object" />
                  </td>
                )}
                <td className="mono name-cell">
                  <Link href={listHref(prefix, arrangement, { preview: object.key })} scroll={false} title="Preview">
                    {basename(object.key)}
                  </Link>
                </td>
                <td className="nowrap">{bytes(object.size)}</td>
                <td className="small">{object.contentType ?? "–"}</td>
                <td className="small">
                  <Time iso={object.lastModified} />
                </td>
                <td>
                  <div className="row-actions">
                    <Link href={listHref(prefix, arrangement, { preview: object.key })} className="button button-small" scroll={false} data-testid="preview-object">
                      Preview
                    </Link>
                    <a href={fileHref(object.key)} className="button button-small" download data-testid="download-object">
                      Download
                    </a>
                    <ShareLinkButton objectKey={object.key} />
                    {operator && <RenameButton objectKey={object.key} onDone={done} />}
                    {operator && <DeleteObjectButton objectKey={object.key} />}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {footer}
      </div>
    </>
  );
}
