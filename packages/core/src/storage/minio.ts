import { Client, CopyDestinationOptions, CopySourceOptions, type ItemBucketMetadata } from "minio";
import { Readable } from "node:stream";
import { InvalidRangeError, ObjectNotFoundError } from "./errors.js";
import { exactRange } from "./range-slice.js";
import { cutPage } from "./list-page.js";
import { DEFAULT_CONTENT_TYPE } from "./content-type.js";
import { createStorageService } from "./service.js";
import type { ByteRange, ListResult, ObjectInfo, ObjectMetadata, StorageBackend, StorageService } from "./types.js";

/** The minio client's default part size; uploads up to this size go in one PUT. */
const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
/** The largest object S3 accepts; the minio client refuses size hints above it. */
const MAX_OBJECT_SIZE = 5 * 1024 ** 4;

export interface MinioStorageOptions {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
  maxUploadBytes: number;
  /** Bytes per multipart part (the client's minimum is 5 MiB); also the single-PUT threshold. */
  partSize?: number;
  /** A ready client, e.g. one whose transport a test observes; the connection options are then ignored. */
  client?: Client;
  /** Where the API serves share links (`/files/...`): they go through the API, bound to the object's version. */
  publicBaseUrl: string;
  /** Signs share links; every replica needs the same one. */
  signingSecret: string;
}

const s3Code = (error: unknown) => (error as { code?: string }).code ?? "";
const NOT_FOUND = new Set(["NoSuchKey", "NotFound"]);
// MinIO answers BucketAlreadyOwnedByYou when the bucket was made by a replica starting at the
// same time; s3rver answers BucketAlreadyExists. Either way the bucket is there.
const BUCKET_THERE = new Set(["BucketAlreadyOwnedByYou", "BucketAlreadyExists"]);

class MinioBackend implements StorageBackend {
  readonly name = "minio";
  private bucketReady?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly bucket: string,
    private readonly partSize: number,
    private readonly region: string | undefined,
  ) {}

  private ready(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region).catch((error) => {
        if (!BUCKET_THERE.has(s3Code(error))) throw error;
      });
    })().catch((error) => {
      this.bucketReady = undefined; // try again on the next call: the server may come up later
      throw error;
    });
    return this.bucketReady;
  }

  async put(key: string, body: Readable, options: { contentType: string; size?: number; limit: number }): Promise<{ etag: string }> {
    await this.ready();
    // The content type is always sent: left out, MinIO stores application/octet-stream but
    // s3rver stores binary/octet-stream.
    const meta: ItemBucketMetadata = { "Content-Type": options.contentType };
    const source = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head: Buffer[] = [];
    let bytes = 0;
    try {
      while (bytes <= this.partSize) {
        const next = await source.next();
        if (next.done) {
          // Whole object in hand: one PUT. (s3rver has no multipart upload at all, so every
          // object below the part size must take this path; MinIO is just faster for it.)
          const { etag } = await this.client.putObject(this.bucket, key, Buffer.concat(head), bytes, meta);
          return { etag };
        }
        head.push(next.value);
        bytes += next.value.length;
      }
    } catch (error) {
      body.destroy();
      throw error;
    }
    // The hint sizes the parts: without it the client assumes 5 TiB and buffers ~500 MiB per part.
    const sizeHint = Math.min(options.size ?? options.limit, MAX_OBJECT_SIZE);
    return this.putMultipart(key, body, head, source, sizeHint, meta);
  }

  private async putMultipart(
    key: string,
    body: Readable,
    head: Buffer[],
    source: AsyncIterator<Buffer>,
    sizeHint: number,
    meta: ItemBucketMetadata,
  ): Promise<{ etag: string }> {
    const rest = Readable.from(
      (async function* () {
        yield* head;
        for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
      })(),
      { objectMode: false },
    );
    // The client pipes the body into its part splitter with no error handler on the body, so a
    // failing body would leave its promise pending forever and commit nothing. The failure is
    // taken from the body itself, and the half-done multipart upload is aborted.
    const bodyFailed = new Promise<never>((_, reject) => rest.once("error", reject));
    const upload = this.client.putObject(this.bucket, key, rest, sizeHint, meta);
    try {
      const { etag } = await Promise.race([upload, bodyFailed]);
      return { etag };
    } catch (error) {
      rest.destroy();
      body.destroy();
      // Should the object get committed after all, what was committed is the failed upload.
      upload.then(() => this.client.removeObject(this.bucket, key)).catch(() => {});
      await this.client.removeIncompleteUpload(this.bucket, key).catch(() => {});
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    await this.ready();
    try {
      if (!range) return await this.client.getObject(this.bucket, key);
      return exactRange(await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1), range);
    } catch (error) {
      if (NOT_FOUND.has(s3Code(error))) throw new ObjectNotFoundError(key);
      if (range && s3Code(error) === "InvalidRange") {
        const { size } = await this.stat(key);
        throw new InvalidRangeError(key, range.start, range.end, size);
      }
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectMetadata> {
    await this.ready();
    try {
      const stat = await this.client.statObject(this.bucket, key);
      const contentType = stat.metaData["content-type"];
      return {
        key,
        size: stat.size,
        contentType: typeof contentType === "string" && contentType ? contentType : DEFAULT_CONTENT_TYPE,
        etag: stat.etag,
        lastModified: stat.lastModified,
      };
    } catch (error) {
      // A HEAD has no body to carry NoSuchKey, so a missing object reads as NotFound.
      if (NOT_FOUND.has(s3Code(error))) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.ready();
    await this.client.removeObject(this.bucket, key);
  }

  async copy(from: string, to: string): Promise<{ etag: string }> {
    await this.ready();
    try {
      // A server-side copy: the bytes never pass through the API. Content type and metadata go along.
      const copied = await this.client.copyObject(new CopySourceOptions({ Bucket: this.bucket, Object: from }), new CopyDestinationOptions({ Bucket: this.bucket, Object: to }));
      return { etag: (copied as { etag?: string }).etag ?? (await this.stat(to)).etag };
    } catch (error) {
      if (NOT_FOUND.has(s3Code(error))) throw new ObjectNotFoundError(from);
      throw error;
    }
  }

  async list(prefix: string, page: { limit: number; after: string | null }): Promise<ListResult> {
    await this.ready();
    // One ListObjectsV2 request for one more name than the page holds, so that the page itself
    // shows whether another follows. S3 lists keys after StartAfter and rolls those of a folder
    // up into it again, so to go past folder "a/" it starts after "a0" ('0' follows '/'),
    // before which every key of "a/" sorts.
    const startAfter = page.after === null ? "" : page.after.endsWith("/") ? `${page.after.slice(0, -1)}0` : page.after;
    const answer = await this.client.listObjectsV2Query(this.bucket, prefix, "", "/", page.limit + 1, startAfter);
    const entries: { name: string; object?: ObjectInfo }[] = [];
    for (const item of answer.objects) {
      if (item.prefix) entries.push({ name: item.prefix });
      else if (item.name) entries.push({ name: item.name, object: { key: item.name, size: item.size, etag: item.etag, lastModified: item.lastModified } });
    }
    // Servers differ in how they count folders against MaxKeys: the page is cut here, in name order.
    const { shown, nextAfter } = cutPage(entries, page, answer.isTruncated);
    return { folders: shown.filter((e) => !e.object).map((e) => e.name), objects: shown.flatMap((e) => (e.object ? [e.object] : [])), nextAfter };
  }
}

/** Storage in a MinIO (or any S3-compatible) bucket, created on first use if missing. */
export function createMinioStorage(options: MinioStorageOptions): StorageService {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const client =
    options.client ??
    new Client({
      endPoint: options.endPoint,
      port: options.port,
      useSSL: options.useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      // Only when asked: a fixed part size stops the client from growing parts for huge objects.
      ...(options.partSize ? { partSize: options.partSize } : {}),
    });
  // Share links are Berth's own, served by the API, not S3 presigned URLs: S3 cannot bind a URL
  // to one version of an object (without bucket versioning), nor set the headers downloads need.
  return createStorageService(new MinioBackend(client, options.bucket, partSize, options.region), {
    maxUploadBytes: options.maxUploadBytes,
    links: { publicBaseUrl: options.publicBaseUrl, secret: () => Promise.resolve(options.signingSecret) },
  });
}
