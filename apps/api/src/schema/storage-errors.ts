import { InvalidKeyError, InvalidRangeError, InvalidStorageArgumentError, KeyConflictError, ObjectExistsError, ObjectNotFoundError, TooManyObjectsError, UploadSizeMismatchError, UploadTooLargeError } from "@berth/core/storage";
import { errorTypes } from "../errors.js";

// Storage's errors are plain classes (the storage layer stands alone); this is how clients see them.
errorTypes.register(InvalidKeyError, "validation", { field: "key" });
errorTypes.register(InvalidRangeError, "validation", { field: "range" });
errorTypes.register(UploadTooLargeError, "validation", { field: "file" });
errorTypes.register(UploadSizeMismatchError, "validation", { field: "file" });
errorTypes.register(InvalidStorageArgumentError, "validation", { field: (e) => e.argument });
errorTypes.register(ObjectNotFoundError, "not_found");
errorTypes.register(KeyConflictError, "conflict");
errorTypes.register(ObjectExistsError, "conflict");
errorTypes.register(TooManyObjectsError, "validation", { field: () => "folder" });
