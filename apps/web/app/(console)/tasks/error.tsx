"use client";

import { SegmentError } from "@/components/segment-error";

export default function TasksError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="tasks" error={error} retry={retry} />;
}
