"use client";

import { SegmentError } from "@/components/segment-error";

export default function FilesError({ error, retry }: { error: unknown; retry: () => void }) {
  return <SegmentError what="files" error={error} retry={retry} />;
}
