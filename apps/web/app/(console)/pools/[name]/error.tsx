"use client";

import { SegmentError } from "@/components/segment-error";

export default function PoolError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="this pool" error={error} retry={retry} />;
}
