"use client";

import { useNow } from "@/lib/client/use-now";
import { ago, dateTime } from "@/lib/format";

/** "5 s ago" once the page is interactive; the absolute time before. */
export function Since({ iso }: { iso: string }) {
  const now = useNow(5_000);
  return <>{now ? ago(iso, now) : dateTime(iso)}</>;
}
