"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { subscribe } from "@/lib/client/graphql";
import { TASK_LOG } from "@/lib/queries";
import type { TaskLogPage } from "@/lib/types";
import { createAnsiParser, type LogSegment } from "./ansi";

type Connection = "connecting" | "live" | "interrupted" | "complete";

/** What the browser keeps of a log in view: a log grows past its cap only while it is live. */
const MAX_CHARS_IN_VIEW = 24 * 1024 * 1024;

interface LogView {
  segments: LogSegment[];
  raw: string[];
  chars: number;
  nextOffset: number;
  truncated: boolean;
  droppedFromView: boolean;
}

const EMPTY: LogView = { segments: [], raw: [], chars: 0, nextOffset: 0, truncated: false, droppedFromView: false };

/** Appends a page; past MAX_CHARS_IN_VIEW the oldest text leaves the view (the download keeps what is in view). */
function withPage(view: LogView, page: TaskLogPage, parse: (chunk: string) => LogSegment[]): LogView {
  if (!page.data) return { ...view, nextOffset: Math.max(view.nextOffset, page.nextOffset), truncated: view.truncated || page.truncated };
  const segments = [...view.segments, ...parse(page.data)];
  const raw = [...view.raw, page.data];
  let chars = view.chars + page.data.length;
  let dropped = view.droppedFromView;
  while (chars > MAX_CHARS_IN_VIEW && raw.length > 1) {
    chars -= raw.shift()!.length;
    dropped = true;
  }
  let shown = 0;
  let from = segments.length;
  while (from > 0 && shown + segments[from - 1]!.text.length <= chars) shown += segments[--from]!.text.length;
  return { segments: segments.slice(from), raw, chars, nextOffset: page.nextOffset, truncated: view.truncated || page.truncated, droppedFromView: dropped };
}

/** The task's log, live from the taskLog subscription, with ANSI colours, follow/pause and download. */
export function LiveLog({ taskId }: { taskId: string }) {
  const router = useRouter();
  const [view, setView] = useState<LogView>(EMPTY);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  const offset = useRef(0);

  useEffect(() => {
    const parse = createAnsiParser();
    let stop: (() => void) | undefined;
    let ended = false;
    const start = () => {
      stop?.();
      // A resubscription goes on from the last byte shown, so nothing is shown twice.
      stop = subscribe<{ taskLog: TaskLogPage }>(TASK_LOG, { id: taskId, from: offset.current }, {
        next: ({ taskLog: page }) => {
          setConnection(page.complete ? "complete" : "live");
          offset.current = Math.max(offset.current, page.nextOffset);
          setView((current) => withPage(current, page, parse));
          if (page.complete && !ended) {
            ended = true;
            router.refresh(); // the task's status and times changed with it
          }
        },
        opened: () => setConnection((c) => (c === "complete" ? c : "live")),
        reconnecting: () => setConnection("interrupted"),
        reconnected: () => setConnection("live"),
        error: () => setConnection("interrupted"),
      });
    };
    start();
    return () => stop?.();
  }, [taskId, router]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [view, follow]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    // Scrolling up to read pauses following; scrolling back to the end resumes it.
    if (follow !== atBottom) setFollow(atBottom);
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob(view.raw, { type: "text/plain;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `task-${taskId}.log`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const status =
    connection === "complete" ? "Complete" : connection === "live" ? "Live" : connection === "interrupted" ? "Reconnecting…" : "Connecting…";
  return (
    <div className="log-view">
      <div className="log-toolbar">
        <span className={`badge ${connection === "live" ? "badge-on" : connection === "interrupted" ? "badge-warn" : ""}`} role="status" data-testid="log-status">
          {status}
        </span>
        {view.truncated && <span className="badge badge-warn">truncated: head and tail kept</span>}
        <span className="muted small">{view.nextOffset.toLocaleString()} bytes</span>
        <button type="button" className="button button-small" aria-pressed={follow} onClick={() => setFollow((f) => !f)} data-testid="log-follow">
          {follow ? "Pause scrolling" : "Follow"}
        </button>
        <button type="button" className="button button-small" onClick={download} disabled={view.raw.length === 0} data-testid="log-download">
          Download
        </button>
      </div>
      {view.droppedFromView && <p className="muted small">The beginning of this live log left the view; the stored log keeps its head.</p>}
      <pre ref={box} className="log" tabIndex={0} role="log" aria-live={follow ? "polite" : "off"} aria-label="Task log" onScroll={onScroll} data-testid="task-log">
        {view.segments.length === 0 ? (
          <span className="muted">{connection === "complete" ? "This task printed nothing." : "No output yet."}</span>
        ) : (
          view.segments.map((segment, i) => (
            <span key={i} className={segment.className || undefined} style={segment.style}>
              {segment.text}
            </span>
          ))
        )}
      </pre>
    </div>
  );
}
