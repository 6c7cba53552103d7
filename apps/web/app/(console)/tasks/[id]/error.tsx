"use client";

import { SegmentError } from "@/components/segment-error";

export default function TaskError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="this task" error={error} retry={retry} />;
}
