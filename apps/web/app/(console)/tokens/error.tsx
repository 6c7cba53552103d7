"use client";

import { SegmentError } from "@/components/segment-error";

export default function TokensError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="API tokens" error={error} retry={retry} />;
}
