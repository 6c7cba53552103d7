"use client";

import { SegmentError } from "@/components/segment-error";

export default function AuditlogError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="audit log" error={error} retry={retry} />;
}
