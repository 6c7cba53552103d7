// Large files through the API to local disk: a 1 GiB upload streamed with PUT /files/<key> and
// downloaded through its presigned /files/... link, against a raw streamed copy of the same file
// on the same disk, with the API process's peak RSS growth. Then what a GraphQL multipart upload
// costs the API in memory, and the in-process storage layer (bench/storage-stream.ts).
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { request, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createApiToken } from "@berth/core/tokens";
import { figure, now, type BenchOptions, type BenchResult } from "./harness.js";
import { benchStorageStream } from "./storage-stream.js";
import { freshDatabase } from "./support/database.js";
import { startChild, type Child } from "./support/processes.js";
import { watchRss, type RssWindow } from "./support/rss.js";

const BENCHMARK = "storage";
const MiB = 1024 * 1024;
const START_TIMEOUT_MS = 180_000;
const UPLOAD = `mutation UploadObject($key: String!, $file: File!) { uploadObject(key: $key, file: $file) { __typename ... on MutationUploadObjectSuccess { data { key size } } ... on Error { message } } }`;

interface Transfer {
  seconds: number;
  mibPerSecond: number;
  rss: RssWindow;
}

/** `size` bytes repeating one random MiB: nothing of the file is held in memory while writing it. */
async function writeSource(path: string, size: number): Promise<void> {
  const block = randomBytes(MiB);
  let sent = 0;
  const source = new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(MiB, size - sent);
      sent += n;
      this.push(n === MiB ? block : block.subarray(0, n));
    },
  });
  await pipeline(source, createWriteStream(path));
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, "r");
  await handle.sync();
  await handle.close();
}

const readAll = async (res: IncomingMessage) => {
  let text = "";
  for await (const chunk of res) text += chunk;
  return text;
};

/** Streams `body` as the request body and returns the response; an early answer (413) still comes back. */
async function send(url: string, method: string, headers: Record<string, string | number>, body: Readable): Promise<{ status: number; text: string }> {
  const req = request(url, { method, headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  await pipeline(body, req).catch(() => {});
  const res = await response;
  return { status: res.statusCode ?? 0, text: await readAll(res) };
}

async function download(url: string, path: string): Promise<number> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => request(url, resolve).once("error", reject).end());
  if (res.statusCode !== 200) throw new Error(`download answered ${res.statusCode}: ${(await readAll(res)).slice(0, 200)}`);
  await pipeline(res, createWriteStream(path));
  await fsync(path);
  return (await stat(path)).size;
}

async function transfer(bytes: number, pid: number, work: () => Promise<void>): Promise<Transfer> {
  const rss = await watchRss(pid);
  const started = now();
  await work();
  const seconds = (now() - started) / 1000;
  return { seconds, mibPerSecond: bytes / MiB / seconds, rss: await rss.stop() };
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const size = (opts.quick ? 256 : 1024) * MiB;
  const multipartSize = (opts.quick ? 64 : 256) * MiB;
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-storage-"));
  const database = await freshDatabase(opts.postgresUrl, 2);
  let api: Child | undefined;
  try {
    const source = join(dir, "source.bin");
    await writeSource(source, size);
    await fsync(source);
    const { token } = await createApiToken(database.db.prisma, { name: "bench-operator", role: "operator" });
    api = startChild(new URL("./support/api-process.ts", import.meta.url), {
      BENCH_API_ENV: JSON.stringify({
        BERTH_DATA_DIR: join(dir, "api"),
        BERTH_DEMO_POOL: "false",
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: "4",
        STORAGE_TYPE: "local",
        STORAGE_MAX_UPLOAD_BYTES: String(2 * size),
        // Raised above its 64 MiB default so that what a multipart upload costs can be measured.
        MAX_GRAPHQL_UPLOAD_BYTES: String(2 * multipartSize),
      }),
    });
    const { url } = await api.next<{ type: "listening"; url: string }>("listening", START_TIMEOUT_MS);

    // Raw: the same bytes read and written by a stream pipeline and flushed, as the storage layer does.
    const rawCopy = async () => {
      const target = join(dir, "raw-copy.bin");
      const copied = await transfer(size, process.pid, async () => {
        await pipeline(createReadStream(source), createWriteStream(target));
        await fsync(target);
      });
      await rm(target);
      return copied;
    };
    opts.log(`${BENCHMARK}: raw copy of ${size / MiB} MiB`);
    const rawBefore = await rawCopy();

    opts.log(`${BENCHMARK}: PUT /files/ upload of ${size / MiB} MiB`);
    const key = "bench/large.bin";
    let uploadAnswer = { status: 0, text: "" };
    const upload = await transfer(size, api.pid, async () => {
      uploadAnswer = await send(
        `${url}/files/${key}`,
        "PUT",
        { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-length": size },
        createReadStream(source),
      );
    });
    if (uploadAnswer.status !== 200 || (JSON.parse(uploadAnswer.text) as { size: number }).size !== size) {
      throw new Error(`upload answered ${uploadAnswer.status}: ${uploadAnswer.text.slice(0, 300)}`);
    }

    opts.log(`${BENCHMARK}: download of ${size / MiB} MiB through the presigned link`);
    const linkAnswer = await send(
      `${url}/graphql`,
      "POST",
      { authorization: `Bearer ${token}`, "content-type": "application/json" },
      Readable.from([JSON.stringify({ query: `query($key: String!) { presignedUrl(key: $key, expiresIn: 600) }`, variables: { key } })]),
    );
    const link = new URL((JSON.parse(linkAnswer.text) as { data: { presignedUrl: string } }).data.presignedUrl);
    const downloaded = join(dir, "downloaded.bin");
    let received = 0;
    const down = await transfer(size, api.pid, async () => {
      received = await download(`${url}${link.pathname}${link.search}`, downloaded);
    });
    if (received !== size) throw new Error(`downloaded ${received} bytes of ${size}`);
    await rm(downloaded);

    const rawAfter = await rawCopy();
    // The two raw copies bracket the API transfers; their mean is the baseline.
    const rawMibPerSecond = (rawBefore.mibPerSecond + rawAfter.mibPerSecond) / 2;
    const rawRssGrowth = Math.max(rawBefore.rss.growthMiB, rawAfter.rss.growthMiB);

    opts.log(`${BENCHMARK}: GraphQL multipart upload of ${multipartSize / MiB} MiB`);
    const boundary = `berth-bench-${randomBytes(8).toString("hex")}`;
    const operations = JSON.stringify({ query: UPLOAD, variables: { key: "bench/multipart.bin", file: null } });
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="multipart.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let multipartAnswer = { status: 0, text: "" };
    const multipart = await transfer(multipartSize, api.pid, async () => {
      const body = Readable.from(
        (async function* () {
          yield head;
          yield* createReadStream(source, { end: multipartSize - 1 });
          yield tail;
        })(),
      );
      multipartAnswer = await send(
        `${url}/graphql`,
        "POST",
        { authorization: `Bearer ${token}`, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + multipartSize + tail.length, "x-graphql-yoga-csrf": "1" },
        body,
      );
    });
    if (!multipartAnswer.text.includes("MutationUploadObjectSuccess")) throw new Error(`multipart upload answered ${multipartAnswer.status}: ${multipartAnswer.text.slice(0, 300)}`);
    const buffers = multipart.rss.growthMiB > 0.5 * (multipartSize / MiB);

    await api.stop();
    api = undefined;

    opts.log(`${BENCHMARK}: in-process storage layer (bench/storage-stream.ts)`);
    const layer = (await benchStorageStream({ mib: opts.quick ? 128 : 512, runs: opts.quick ? 1 : 2 })) as {
      save: { mibPerSecond: number; peakRssGrowthMiB: number };
      read: { mibPerSecond: number; peakRssGrowthMiB: number };
      raw: { writeWithFsync: { mibPerSecond: number }; read: { mibPerSecond: number } };
    };

    const details = {
      mib: size / MiB,
      rawCopy: [rawBefore, rawAfter],
      upload,
      download: down,
      multipart: { mib: multipartSize / MiB, ...multipart },
      storageLayer: layer,
    };
    const apiNote = "the API path adds HTTP over loopback and a second process (client and API share 2 cores); the raw copy is one process reading and writing the same disk";
    return [
      figure({
        benchmark: BENCHMARK,
        name: `PUT upload ${size / MiB} MiB throughput`,
        value: upload.mibPerSecond,
        unit: "MiB/s",
        baseline: { name: "raw streamed copy + fsync", value: rawMibPerSecond },
        target: { on: "ratio", op: ">=", limit: 0.5 },
        note: apiNote,
        details,
      }),
      figure({
        benchmark: BENCHMARK,
        name: `download ${size / MiB} MiB throughput (presigned link)`,
        value: down.mibPerSecond,
        unit: "MiB/s",
        baseline: { name: "raw streamed copy + fsync", value: rawMibPerSecond },
        target: { on: "ratio", op: ">=", limit: 0.5 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "API peak RSS growth during the upload",
        value: upload.rss.growthMiB,
        unit: "MiB",
        baseline: { name: "raw copy, in this process", value: rawRssGrowth },
        target: { on: "value", op: "<", limit: 64 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "API peak RSS growth during the download",
        value: down.rss.growthMiB,
        unit: "MiB",
        baseline: { name: "raw copy, in this process", value: rawRssGrowth },
        target: { on: "value", op: "<", limit: 64 },
      }),
      figure({
        benchmark: BENCHMARK,
        name: `GraphQL multipart ${multipartSize / MiB} MiB: API peak RSS growth`,
        value: multipart.rss.growthMiB,
        unit: "MiB",
        baseline: { name: `PUT route for ${size / MiB} MiB`, value: upload.rss.growthMiB },
        note: buffers
          ? `the multipart path holds the file in memory (growth near the file's ${multipartSize / MiB} MiB): large files should go through PUT /files/<key>`
          : `the multipart path streams too (growth well under the file's ${multipartSize / MiB} MiB)`,
      }),
      figure({
        benchmark: BENCHMARK,
        name: "storage layer saveStream (in process)",
        value: layer.save.mibPerSecond,
        unit: "MiB/s",
        baseline: { name: "raw stream write + fsync", value: layer.raw.writeWithFsync.mibPerSecond },
      }),
      figure({
        benchmark: BENCHMARK,
        name: "storage layer getStream (in process)",
        value: layer.read.mibPerSecond,
        unit: "MiB/s",
        baseline: { name: "raw stream read", value: layer.raw.read.mibPerSecond },
      }),
    ];
  } finally {
    await api?.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
