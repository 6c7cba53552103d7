export type {
  ByteRange,
  ListResult,
  ObjectInfo,
  ObjectMetadata,
  SaveOptions,
  SavedObject,
  ShareLinkRequest,
  ShareLinkSigning,
  StorageBackend,
  StorageBackendName,
  StorageService,
} from "./types.js";
export {
  InvalidKeyError,
  InvalidRangeError,
  InvalidStorageArgumentError,
  KeyConflictError,
  ObjectExistsError,
  ObjectNotFoundError,
  TooManyObjectsError,
  UploadSizeMismatchError,
  UploadTooLargeError,
  type InvalidKeyReason,
} from "./errors.js";
export { MAX_KEY_BYTES, MAX_SEGMENT_BYTES, RESERVED_FOLDER, validateKey, validatePrefix } from "./keys.js";
export { DEFAULT_CONTENT_TYPE, MAX_PRESIGN_SECONDS, createStorageService } from "./service.js";
export { FOLDER_MARKER, MAX_BULK_OBJECTS, folderMarkerKey } from "./folders.js";
export { contentTypeOf } from "./content-type.js";
export {
  InvalidSignatureError,
  LOCAL_FILES_PATH,
  encodeKeyPath,
  keyFromFilesPath,
  objectVersion,
  shareLinkSignature,
  signShareLink,
  verifyShareLinkSignature,
  type SignatureCheck,
  type SignatureFailure,
} from "./signing.js";
export { createLocalStorage, isLocalStorage, type LocalStorageOptions, type LocalStorageService } from "./local.js";
export { createMinioStorage, type MinioStorageOptions } from "./minio.js";
export { createStorage, type StorageConfig } from "./factory.js";
export { storageDuration, storageOperations } from "./metrics.js";
