"use client";

import { SegmentError } from "@/components/segment-error";

export default function SchedulesError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="schedules" error={error} retry={retry} />;
}
