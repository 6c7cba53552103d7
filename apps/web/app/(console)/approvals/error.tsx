"use client";

import { SegmentError } from "@/components/segment-error";

export default function ApprovalsError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="approvals" error={error} retry={retry} />;
}
