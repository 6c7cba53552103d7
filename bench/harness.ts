// Shared by every benchmark: timing, percentiles, bounded loops, the result shape (each figure
// paired with a baseline measured in the same run), and the JSON file and table they end up in.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";

export interface BenchOptions {
  /** A short smoke run: fewer iterations, smaller sizes. Figures are indicative only. */
  quick: boolean;
  /** Server URL (any database); each benchmark creates and drops a database of its own there. */
  postgresUrl: string;
  redisUrl: string;
  /** A prefix unique to this run for every Redis key or channel a benchmark writes. */
  redisPrefix: string;
  log(message: string): void;
}

export type Comparison = "<" | "<=" | ">" | ">=";

export interface Target {
  /** Whether the limit applies to the figure itself or to its ratio to the baseline. */
  on: "value" | "ratio";
  op: Comparison;
  limit: number;
}

/** One measured figure, always beside a baseline from the same run. */
export interface BenchResult {
  benchmark: string;
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  /** value / baseline.value. */
  ratio: number;
  target: (Target & { text: string }) | null;
  /** null when the figure has no target (context for another figure). */
  met: boolean | null;
  /** What limits the figure, or how to read it. */
  note?: string;
  details?: Record<string, unknown>;
}

export interface FigureInput {
  benchmark: string;
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  target?: Target;
  note?: string;
  details?: Record<string, unknown>;
}

const compare = (value: number, op: Comparison, limit: number) =>
  op === "<" ? value < limit : op === "<=" ? value <= limit : op === ">" ? value > limit : value >= limit;

export function figure(input: FigureInput): BenchResult {
  const ratio = input.baseline.value === 0 ? Number.NaN : input.value / input.baseline.value;
  const target = input.target
    ? { ...input.target, text: input.target.on === "ratio" ? `ratio ${input.target.op} ${input.target.limit}` : `${input.target.op} ${input.target.limit} ${input.unit}` }
    : null;
  const checked = input.target?.on === "ratio" ? ratio : input.value;
  return {
    benchmark: input.benchmark,
    name: input.name,
    value: round(input.value),
    unit: input.unit,
    baseline: { name: input.baseline.name, value: round(input.baseline.value) },
    ratio: round(ratio, 3),
    target,
    met: input.target && Number.isFinite(checked) ? compare(checked, input.target.op, input.target.limit) : input.target ? false : null,
    ...(input.note ? { note: input.note } : {}),
    ...(input.details ? { details: input.details } : {}),
  };
}

/** A benchmark that could not run: reported as a missed target with the reason, so the run still ends with one file. */
export function failed(benchmark: string, error: unknown): BenchResult {
  return {
    benchmark,
    name: "did not complete",
    value: Number.NaN,
    unit: "",
    baseline: { name: "-", value: Number.NaN },
    ratio: Number.NaN,
    target: null,
    met: false,
    note: String((error as Error)?.stack ?? error).split("\n").slice(0, 3).join(" | "),
  };
}

export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 10 ? 2 : digits;
  return Number(value.toFixed(magnitude));
}

// ---------------------------------------------------------------- timing

export const now = (): number => performance.now();

/** Milliseconds `fn` took, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = now();
  const result = await fn();
  return { ms: now() - start, result };
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(mean),
  };
}

export const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 50);

/**
 * Runs `body` until it returns false, `maxCount` iterations or `maxMs` have passed, whichever
 * comes first: no benchmark loop can run away. Returns how many iterations ran.
 */
export async function boundedLoop(limits: { maxCount: number; maxMs: number }, body: (i: number) => Promise<boolean | void>): Promise<number> {
  const deadline = now() + limits.maxMs;
  let i = 0;
  while (i < limits.maxCount && now() < deadline) {
    const more = await body(i);
    i++;
    if (more === false) break;
  }
  return i;
}

/** Waits until `check` holds, polling; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 5): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await check())) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

// ---------------------------------------------------------------- output

export interface RunMeta {
  startedAt: string;
  seconds: number;
  quick: boolean;
  only: string[] | null;
  node: string;
  cpus: number;
  memoryGiB: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

export function machineFacts(): Pick<RunMeta, "node" | "cpus" | "memoryGiB"> {
  return { node: process.version, cpus: cpus().length, memoryGiB: round(totalmem() / 1024 ** 3, 1) };
}

export const loadAverage = (): number[] => loadavg().map((l) => round(l, 2));

export async function writeResults(path: string, meta: RunMeta, results: BenchResult[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const summary = { figures: results.length, targets: results.filter((r) => r.met !== null).length, met: results.filter((r) => r.met === true).length };
  await writeFile(path, JSON.stringify({ meta, summary, results }, null, 2) + "\n");
}

const show = (value: number) => (Number.isFinite(value) ? String(value) : "-");

/** The results as a fixed-width table, one line per figure, notes below. */
export function formatTable(results: BenchResult[]): string {
  const header = ["benchmark", "figure", "value", "baseline", "ratio", "target", "met"];
  const rows = results.map((r) => [
    r.benchmark,
    r.name,
    `${show(r.value)} ${r.unit}`.trim(),
    `${show(r.baseline.value)} (${r.baseline.name})`,
    show(r.ratio),
    r.target?.text ?? "",
    r.met === null ? "" : r.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const notes = results.filter((r) => r.note).map((r) => `- ${r.benchmark} / ${r.name}: ${r.note}`);
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ...(notes.length ? ["", "Notes:", ...notes] : [])].join("\n");
}
