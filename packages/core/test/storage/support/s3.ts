// An S3-compatible server for tests: s3rver on a random loopback port with a temp directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export const S3RVER_KEYS = { accessKey: "S3RVER", secretKey: "S3RVER" };

export interface S3Server {
  endPoint: string;
  port: number;
  directory: string;
  close(): Promise<void>;
}

interface ListBody {
  ListBucketResult?: { Contents: { Key: string }[]; CommonPrefixes: { Prefix: string }[] };
}

/**
 * s3rver ignores `encoding-type=url` in ListObjects and returns raw keys, while the minio client
 * (rightly, for MinIO and S3) URL-decodes every listed key: "a+b" would come back as "a b" and a
 * bare "%" would throw. This encodes the listing as MinIO does, so that the tests exercise the
 * client and server the way production does.
 */
const encodeListing: S3rver["middleware"][number] = async (ctx, next) => {
  await next();
  const result = (ctx.body as ListBody | undefined)?.ListBucketResult;
  if (!result || ctx.query["encoding-type"] !== "url") return;
  for (const object of result.Contents) object.Key = encodeURIComponent(object.Key);
  for (const prefix of result.CommonPrefixes) prefix.Prefix = encodeURIComponent(prefix.Prefix);
};

/**
 * s3rver answers 500 to any truncated ListObjectsV2 page on Node 20: it builds the next
 * continuation token with a cipher OpenSSL 3 no longer offers. Berth never sends that token
 * (it pages with start-after and asks for one name more than a page holds, so the page itself
 * shows whether another follows), so the page is answered as not truncated instead.
 */
function answerTruncatedPages(server: S3rver): void {
  const list = server.store.listObjects.bind(server.store);
  server.store.listObjects = async (bucket, options) => ({ ...(await list(bucket, options)), isTruncated: false });
}

export async function startS3Server(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), "berth-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true });
  // After s3rver's own XML encoder (index 1), so the listing is still an object here.
  server.middleware.splice(2, 0, encodeListing);
  answerTruncatedPages(server);
  const { port } = await server.run();
  return {
    endPoint: "127.0.0.1",
    port,
    directory,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
