"use client";

import { SegmentError } from "@/components/segment-error";

export default function LocksError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="locks" error={error} retry={retry} />;
}
