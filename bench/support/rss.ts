// Peak resident memory of a process (this one or a child) over a stretch of work, read from
// procfs: the kernel's high-water mark (reset at the start through clear_refs) where allowed,
// and samples every few milliseconds as well, in case it is not.
import { readFile, writeFile } from "node:fs/promises";

const MiB = 1024 * 1024;

async function status(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

export interface RssWindow {
  /** MiB at the start, the peak during the window, and the growth between them. */
  startMiB: number;
  peakMiB: number;
  growthMiB: number;
  method: "high-water mark" | "sampled";
}

export async function watchRss(pid: number, sampleMs = 10): Promise<{ stop(): Promise<RssWindow> }> {
  const hwmReset = await writeFile(`/proc/${pid}/clear_refs`, "5").then(
    () => true,
    () => false,
  );
  const start = (await status(pid)).rss;
  let sampled = start;
  const timer = setInterval(() => {
    status(pid).then(
      (s) => (sampled = Math.max(sampled, s.rss)),
      () => {},
    );
  }, sampleMs);
  return {
    async stop() {
      clearInterval(timer);
      const end = await status(pid);
      const peak = Math.max(sampled, end.rss, hwmReset ? end.hwm : 0);
      return { startMiB: start / MiB, peakMiB: peak / MiB, growthMiB: (peak - start) / MiB, method: hwmReset ? "high-water mark" : "sampled" };
    },
  };
}
