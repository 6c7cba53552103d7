"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { subscribe } from "@/lib/client/graphql";

interface Props {
  /** A subscription document; each event re-renders the page's server components. */
  subscription?: string;
  variables?: Record<string, unknown>;
  /** Fallback polling, for data that changes without an event (and for when the stream is down). */
  intervalMs?: number;
}

/** Keeps a server-rendered page current without a reload, by refreshing it on events. */
export function LiveRefresh({ subscription, variables, intervalMs }: Props) {
  const router = useRouter();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const key = JSON.stringify(variables ?? {});

  useEffect(() => {
    if (!subscription) return;
    const refreshSoon = () => {
      // Events come in bursts (a task touches several rows); one refresh per burst is enough.
      clearTimeout(timer.current);
      timer.current = setTimeout(() => router.refresh(), 250);
    };
    const stop = subscribe<unknown>(subscription, JSON.parse(key) as Record<string, unknown>, {
      next: refreshSoon,
      reconnected: refreshSoon,
      error: (error) => console.warn("live updates interrupted", error),
    });
    return () => {
      clearTimeout(timer.current);
      stop();
    };
  }, [subscription, key, router]);

  useEffect(() => {
    if (!intervalMs) return;
    const id = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, intervalMs);
    return () => clearInterval(id);
  }, [intervalMs, router]);

  return null;
}
