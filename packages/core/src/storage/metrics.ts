import { Counter, Histogram, metric, registry } from "../metrics/index.js";
import {
  InvalidKeyError,
  InvalidRangeError,
  InvalidStorageArgumentError,
  KeyConflictError,
  ObjectExistsError,
  ObjectNotFoundError,
  TooManyObjectsError,
  UploadSizeMismatchError,
  UploadTooLargeError,
} from "./errors.js";

export const storageOperations = metric(
  "storage_operations_total",
  () =>
    new Counter({
      name: "storage_operations_total",
      help: "Storage operations by outcome",
      labelNames: ["operation", "backend", "status"] as const,
      registers: [registry],
    }),
);

export const storageDuration = metric(
  "storage_operation_duration_seconds",
  () =>
    new Histogram({
      name: "storage_operation_duration_seconds",
      help: "Time taken by storage operations (streams: until the last byte or the failure)",
      labelNames: ["operation", "backend"] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
);

/** A small, fixed set of statuses so that the label never grows with error messages. */
export function statusOf(error: unknown): string {
  if (error instanceof ObjectNotFoundError) return "not_found";
  if (error instanceof InvalidKeyError) return "invalid_key";
  if (error instanceof UploadTooLargeError) return "too_large";
  if (error instanceof UploadSizeMismatchError) return "size_mismatch";
  if (error instanceof InvalidRangeError) return "invalid_range";
  if (error instanceof KeyConflictError) return "conflict";
  if (error instanceof InvalidStorageArgumentError) return "invalid_argument";
  if (error instanceof ObjectExistsError) return "exists";
  if (error instanceof TooManyObjectsError) return "too_many";
  return "error";
}

export function record(operation: string, backend: string, status: string, seconds: number): void {
  storageOperations.inc({ operation, backend, status });
  storageDuration.observe({ operation, backend }, seconds);
}
