// Streams a generated object of hundreds of MiB into the local storage backend and back out,
// against a raw fs pipeline of the same bytes in the same run, and watches peak RSS.
//   node --import tsx bench/storage-stream.ts [--mib 512] [--runs 3]
// Prints one JSON object. Temp files live under os.tmpdir() and are removed at the end.
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { createLocalStorage } from "../packages/core/src/storage/index.js";

const MiB = 1024 * 1024;

export interface BenchStorageStreamOptions {
  /** Object size in MiB (default 512). */
  mib?: number;
  /** Timed runs of each phase; the median is reported (default 3). */
  runs?: number;
  /** RSS sampling interval (default 50 ms). */
  sampleMs?: number;
}

interface Phase {
  seconds: number;
  mibPerSecond: number;
  peakRssGrowthMiB: number;
}

/** `total` bytes made on the fly from one random block, so nothing of the object is held in memory. */
function generated(total: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= total) return this.push(null);
      const size = Math.min(block.length, total - sent);
      this.push(size === block.length ? block : block.subarray(0, size));
      sent += size;
    },
  });
}

/** Consumes a stream and counts its bytes. */
function counter(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sink.bytes += chunk.length;
      done();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  await handle.sync();
  await handle.close();
}

/** Runs `work` while sampling RSS; returns its duration and how far RSS rose above where it started. */
async function measure(bytes: number, sampleMs: number, work: () => Promise<void>): Promise<Phase> {
  globalThis.gc?.();
  const startRss = process.memoryUsage().rss;
  let peak = startRss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, sampleMs);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    seconds: round(seconds, 3),
    mibPerSecond: round(bytes / MiB / seconds, 1),
    peakRssGrowthMiB: round((peak - startRss) / MiB, 1),
  };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** The median run of a phase by time, with the highest RSS growth seen in any run. */
function summarise(runs: Phase[]): Phase {
  const seconds = median(runs.map((r) => r.seconds));
  const typical = runs.find((r) => r.seconds === seconds) ?? runs[0]!;
  return { ...typical, peakRssGrowthMiB: Math.max(...runs.map((r) => r.peakRssGrowthMiB)) };
}

export async function benchStorageStream(options: BenchStorageStreamOptions = {}): Promise<object> {
  const mib = options.mib ?? 512;
  const runs = options.runs ?? 3;
  const sampleMs = options.sampleMs ?? 50;
  if (!Number.isFinite(mib) || mib <= 0) throw new Error(`mib must be a positive number, got ${mib}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  const bytes = Math.round(mib * MiB);
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-storage-"));
  const rssAtStart = process.memoryUsage().rss;
  try {
    const rawFile = join(dir, "raw.bin");
    const storage = createLocalStorage({ root: join(dir, "root"), maxUploadBytes: bytes, publicBaseUrl: "http://127.0.0.1" });
    const key = "bench/object.bin";

    const phases = { rawWrite: [] as Phase[], rawFsync: [] as Phase[], save: [] as Phase[], rawRead: [] as Phase[], read: [] as Phase[] };
    // Run 0 is a small untimed warm-up of both paths, so neither pays for the first compilation.
    for (let run = 0; run <= runs; run++) {
      const size = run === 0 ? Math.min(bytes, 16 * MiB) : bytes;
      // Which path goes first alternates between runs, so that neither always meets a busier disk.
      const storageFirst = run % 2 === 0;
      let saved = 0;
      const timeSave = () =>
        measure(size, sampleMs, async () => {
          saved = (await storage.saveStream(generated(size), key, "application/octet-stream", size)).size;
        });
      const timeRawWrite = async () => {
        const write = await measure(size, sampleMs, () => pipeline(generated(size), createWriteStream(rawFile)));
        return { write, sync: await measure(size, sampleMs, () => fsync(rawFile)) };
      };
      const saveFirst = storageFirst ? await timeSave() : undefined;
      const { write: rawWrite, sync: rawFsync } = await timeRawWrite();
      const save = saveFirst ?? (await timeSave());

      const rawSink = counter();
      const storageSink = counter();
      const timeRead = () => measure(size, sampleMs, async () => pipeline(await storage.getStream(key), storageSink));
      const readFirst = storageFirst ? await timeRead() : undefined;
      const rawRead = await measure(size, sampleMs, () => pipeline(createReadStream(rawFile), rawSink));
      const read = readFirst ?? (await timeRead());
      if (saved !== size || rawSink.bytes !== size || storageSink.bytes !== size) {
        throw new Error(`byte counts differ: saved ${saved}, raw read ${rawSink.bytes}, storage read ${storageSink.bytes}, expected ${size}`);
      }
      if (run === 0) continue;
      phases.rawWrite.push(rawWrite);
      phases.rawFsync.push(rawFsync);
      phases.save.push(save);
      phases.rawRead.push(rawRead);
      phases.read.push(read);
    }

    const save = summarise(phases.save);
    const read = summarise(phases.read);
    const rawWrite = summarise(phases.rawWrite);
    const rawRead = summarise(phases.rawRead);
    // The storage layer fsyncs before it renames; the raw pipeline alone does not, so both baselines are given.
    const withFsync = phases.rawWrite.map((w, i) => w.seconds + (phases.rawFsync[i]?.seconds ?? 0));
    const rawWriteWithFsyncSeconds = median(withFsync);
    return {
      benchmark: "storage-stream",
      backend: "local",
      mib,
      runs,
      node: process.version,
      save,
      read,
      raw: {
        write: rawWrite,
        writeWithFsync: { seconds: round(rawWriteWithFsyncSeconds, 3), mibPerSecond: round(mib / rawWriteWithFsyncSeconds, 1) },
        read: rawRead,
      },
      ratio: {
        saveVsRawWrite: round(save.mibPerSecond / rawWrite.mibPerSecond, 3),
        saveVsRawWriteWithFsync: round(rawWriteWithFsyncSeconds / save.seconds, 3),
        readVsRawRead: round(read.mibPerSecond / rawRead.mibPerSecond, 3),
      },
      peakRssGrowthMiB: round(Math.max(save.peakRssGrowthMiB, read.peakRssGrowthMiB), 1),
      rssAtStartMiB: round(rssAtStart / MiB, 1),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mib = argument("mib");
  const runs = argument("runs");
  benchStorageStream({ mib: mib === undefined ? undefined : Number(mib), runs: runs === undefined ? undefined : Number(runs) }).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
