import { createHmac } from "node:crypto";
import type { BerthConfig } from "../cluster/index.js";
import { InvalidStorageArgumentError } from "./errors.js";
import { createLocalStorage } from "./local.js";
import { createMinioStorage } from "./minio.js";
import type { StorageService } from "./types.js";

export type StorageConfig = BerthConfig["storage"];

/** The storage backend the configuration asks for (`loadConfig().storage`). */
export function createStorage(config: StorageConfig, options: { publicBaseUrl: string }): StorageService {
  if (config.type === "local") {
    return createLocalStorage({
      root: config.localPath,
      maxUploadBytes: config.maxUploadBytes,
      signingSecret: config.signingSecret,
      publicBaseUrl: options.publicBaseUrl,
    });
  }
  const { accessKey, secretKey, ...minio } = config.minio;
  // loadConfig already insists on both for minio; a hand-built config may not.
  if (!accessKey) throw new InvalidStorageArgumentError("minio.accessKey", "an access key", accessKey);
  if (!secretKey) throw new InvalidStorageArgumentError("minio.secretKey", "a secret key", secretKey);
  return createMinioStorage({
    ...minio,
    accessKey,
    secretKey,
    maxUploadBytes: config.maxUploadBytes,
    publicBaseUrl: options.publicBaseUrl,
    // Every replica has the same MinIO secret key: without STORAGE_SIGNING_SECRET, share links are
    // signed with a key derived from it (never with the key itself).
    signingSecret: config.signingSecret ?? createHmac("sha256", secretKey).update("berth share links").digest("hex"),
  });
}
