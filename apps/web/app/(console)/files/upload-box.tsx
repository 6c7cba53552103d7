"use client";

import { useRouter } from "next/navigation";
import { useRef, useState, type DragEvent } from "react";
import { uploadObject } from "@/lib/client/upload";
import { bytes } from "@/lib/format";

interface Item {
  id: number;
  name: string;
  key: string;
  size: number;
  progress: number;
  state: "uploading" | "done" | "failed";
  error?: string;
}

let nextId = 1;

export function UploadBox({ prefix }: { prefix: string }) {
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);

  function patch(id: number, change: Partial<Item>) {
    setItems((all) => all.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }

  async function upload(files: FileList | File[]) {
    const list = Array.from(files);
    if (list.length === 0) return;
    const queued = list.map((file) => ({ file, item: { id: nextId++, name: file.name, key: `${prefix}${file.name}`, size: file.size, progress: 0, state: "uploading" as const } }));
    setItems((all) => [...queued.map((q) => q.item), ...all].slice(0, 20));
    // One at a time: the proxy and the API each hold one stream open per upload.
    for (const { file, item } of queued) {
      try {
        await uploadObject(item.key, file, (fraction) => patch(item.id, { progress: fraction }));
        patch(item.id, { state: "done", progress: 1 });
      } catch (error) {
        patch(item.id, { state: "failed", error: error instanceof Error ? error.message : String(error) });
      }
    }
    router.refresh();
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    void upload(event.dataTransfer.files);
  }

  return (
    <div className="stack">
      <div
        className={`dropzone${dragging ? " dropzone-active" : ""}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop files here to upload them to <code>{prefix || "/"}</code>, or{" "}
          <button type="button" className="button button-small" onClick={() => input.current?.click()}>
            choose files
          </button>
        </p>
        <input
          ref={input}
          type="file"
          multiple
          className="sr-only"
          aria-label="Files to upload"
          data-testid="file-input"
          onChange={(event) => {
            if (event.target.files) void upload(event.target.files);
            event.target.value = "";
          }}
        />
      </div>
      {items.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {items.map((item) => (
            <li key={item.id} className={`upload upload-${item.state}`} data-testid="upload-item" data-state={item.state}>
              <span className="mono">{item.key}</span> <span className="muted small">{bytes(item.size)}</span>
              <progress max={1} value={item.progress} aria-label={`Upload of ${item.name}`} />
              <span className="small">
                {item.state === "uploading" ? `${Math.round(item.progress * 100)}%` : item.state === "done" ? "uploaded" : item.error}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
