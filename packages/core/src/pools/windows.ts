// Scheduled capacity: windows (a cron expression in an IANA time zone, plus a duration) during
// which a pool keeps more pods warm, may grow further, or does not scale down. Pure functions
// of the windows and a clock; the controller applies the limits in effect to its decision.
import { InvalidCronExpressionError } from "../cron/errors.js";
import { parseSchedule, type CronSchedule } from "../cron/schedule.js";
import { PoolSpecError } from "./spec.js";

export interface CapacityWindow {
  cron: string;
  timeZone: string;
  durationSeconds: number;
  /** Pods kept while the window is in effect (raises the pool's minPods). */
  minPods: number | null;
  /** The pool may grow to this many pods while the window is in effect (raises maxPods). */
  maxPods: number | null;
  /** No scale-down while the window is in effect. */
  blockScaleDown: boolean;
  /** The window takes effect this long before each start, so that its pods are Ready by then. */
  prewarmSeconds: number;
}

/** A window as given by a client: omitted fields take their defaults (UTC, no change, 120 s prewarm). */
export type CapacityWindowInput = Pick<CapacityWindow, "cron" | "durationSeconds"> & Partial<{ [K in Exclude<keyof CapacityWindow, "cron" | "durationSeconds">]: CapacityWindow[K] | null }>;

export const MAX_CAPACITY_WINDOWS = 20;
export const DEFAULT_PREWARM_SECONDS = 120;
const MAX_DURATION_SECONDS = 7 * 86_400;

/** A window in effect at a moment: which one, and the occurrence it belongs to. */
export interface ActiveCapacityWindow {
  index: number;
  window: CapacityWindow;
  startsAt: Date;
  endsAt: Date;
}

const KEYS = new Set(["cron", "timeZone", "durationSeconds", "minPods", "maxPods", "blockScaleDown", "prewarmSeconds"]);

function wholeNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new PoolSpecError(field, `${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function optional<T>(value: unknown, check: (v: unknown) => T): T | null {
  return value === undefined || value === null ? null : check(value);
}

function schedule(window: Pick<CapacityWindow, "cron" | "timeZone">, at: string): CronSchedule {
  try {
    return parseSchedule(window.cron, window.timeZone);
  } catch (error) {
    if (!(error instanceof InvalidCronExpressionError)) throw error;
    const field = /time zone/.test(error.reason) ? "timeZone" : "cron";
    throw new PoolSpecError(`${at}.${field}`, `${at}.${field}: ${error.reason}`);
  }
}

/**
 * Checks the windows of a pool spec against the pool's own limits; a bad value is a
 * PoolSpecError naming the field (`capacityWindows[1].timeZone`). Returns them normalised.
 */
export function checkCapacityWindows(value: unknown, limits: { minPods: number; maxPods: number }): CapacityWindow[] {
  if (!Array.isArray(value)) throw new PoolSpecError("capacityWindows", "capacityWindows must be a list");
  if (value.length > MAX_CAPACITY_WINDOWS) throw new PoolSpecError("capacityWindows", `capacityWindows holds at most ${MAX_CAPACITY_WINDOWS} windows`);
  return value.map((raw: unknown, i) => {
    const at = `capacityWindows[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new PoolSpecError(at, `${at} must be an object`);
    const input = raw as Record<string, unknown>;
    const unknownKey = Object.keys(input).find((k) => !KEYS.has(k));
    if (unknownKey) throw new PoolSpecError(`${at}.${unknownKey}`, `${at}.${unknownKey} is not a capacity window field`);
    if (typeof input.cron !== "string" || input.cron.trim() === "" || input.cron.length > 256) {
      throw new PoolSpecError(`${at}.cron`, `${at}.cron must be a cron expression of 5 fields, or 6 with seconds first`);
    }
    const timeZone = input.timeZone ?? "UTC";
    if (typeof timeZone !== "string" || timeZone === "" || timeZone.length > 64) {
      throw new PoolSpecError(`${at}.timeZone`, `${at}.timeZone must be an IANA time zone such as Europe/Berlin`);
    }
    const window: CapacityWindow = {
      cron: input.cron.trim(),
      timeZone,
      durationSeconds: wholeNumber(`${at}.durationSeconds`, input.durationSeconds, 60, MAX_DURATION_SECONDS),
      minPods: optional(input.minPods, (v) => wholeNumber(`${at}.minPods`, v, 0, 1000)),
      maxPods: optional(input.maxPods, (v) => wholeNumber(`${at}.maxPods`, v, 0, 1000)),
      blockScaleDown: optional(input.blockScaleDown, (v) => {
        if (typeof v !== "boolean") throw new PoolSpecError(`${at}.blockScaleDown`, `${at}.blockScaleDown must be true or false`);
        return v;
      }) ?? false,
      prewarmSeconds: optional(input.prewarmSeconds, (v) => wholeNumber(`${at}.prewarmSeconds`, v, 0, 3600)) ?? DEFAULT_PREWARM_SECONDS,
    };
    schedule(window, at);
    if (window.minPods === null && window.maxPods === null && !window.blockScaleDown) {
      throw new PoolSpecError(at, `${at} changes nothing: set minPods, maxPods or blockScaleDown`);
    }
    const ceiling = Math.max(limits.maxPods, window.maxPods ?? 0);
    if (window.minPods !== null && window.minPods > ceiling) {
      throw new PoolSpecError(`${at}.minPods`, `${at}.minPods (${window.minPods}) must not exceed maxPods in the window (${ceiling})`);
    }
    return window;
  });
}

/**
 * The occurrence of `window` in effect at `now`: one that started (or starts within its
 * prewarm lead) and has not ended. One cron step from `now - duration` finds it.
 */
function occurrenceAt(window: CapacityWindow, now: Date): { startsAt: Date; endsAt: Date } | null {
  const startsAt = parseSchedule(window.cron, window.timeZone).next(new Date(now.getTime() - window.durationSeconds * 1000));
  if (!startsAt || startsAt.getTime() - window.prewarmSeconds * 1000 > now.getTime()) return null;
  return { startsAt, endsAt: new Date(startsAt.getTime() + window.durationSeconds * 1000) };
}

/** Every window in effect at `now` (pre-warm lead included), in the order of the spec. */
export function activeCapacityWindows(windows: CapacityWindow[], now: Date): ActiveCapacityWindow[] {
  return windows.flatMap((window, index) => {
    const occurrence = occurrenceAt(window, now);
    return occurrence ? [{ index, window, ...occurrence }] : [];
  });
}

/** The pool's limits at `now`: windows in effect raise minPods and maxPods and may block scale-down. */
export function limitsAt(spec: { minPods: number; maxPods: number; capacityWindows: CapacityWindow[] }, now: Date) {
  const active = activeCapacityWindows(spec.capacityWindows, now);
  const maxPods = Math.max(spec.maxPods, ...active.map((a) => a.window.maxPods ?? 0));
  const minPods = Math.min(maxPods, Math.max(spec.minPods, ...active.map((a) => a.window.minPods ?? 0)));
  return { minPods, maxPods, blockScaleDown: active.some((a) => a.window.blockScaleDown), active };
}

/** One line for events and the console: which window, when, and what it does. */
export function describeWindow(a: ActiveCapacityWindow): string {
  const w = a.window;
  const effects = [w.minPods !== null ? `minPods ${w.minPods}` : null, w.maxPods !== null ? `maxPods ${w.maxPods}` : null, w.blockScaleDown ? "no scale-down" : null].filter(Boolean);
  return `capacity window ${a.index} (${w.cron} ${w.timeZone}) from ${a.startsAt.toISOString()} to ${a.endsAt.toISOString()}: ${effects.join(", ")}`;
}
