"use client";

import { SegmentError } from "@/components/segment-error";

export default function CronError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="cron jobs" error={error} retry={retry} />;
}
