"use client";

import { SegmentError } from "@/components/segment-error";

export default function PoolsError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="pools" error={error} retry={retry} />;
}
