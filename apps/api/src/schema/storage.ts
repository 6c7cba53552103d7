import { Readable } from "node:stream";
import { contentTypeOf, MAX_BULK_OBJECTS, ObjectNotFoundError, type ObjectInfo, type ObjectMetadata, type SavedObject } from "@berth/core/storage";
import { builder } from "../builder.js";
import "./storage-errors.js";
import { chunksOf } from "../streams.js";

type StoredObject = ObjectInfo | ObjectMetadata;

const StoredObjectRef = builder.objectRef<StoredObject>("StoredObject").implement({
  fields: (t) => ({
    key: t.exposeString("key"),
    size: t.float({ description: "Bytes (a Float: objects may exceed 2^31).", resolve: (o) => o.size }),
    contentType: t.string({
      nullable: true,
      description: "From the key's name, as share links serve it (what an uploader claimed is not kept).",
      // A pure function of the key: a listing page needs no request per object for it.
      resolve: (o) => contentTypeOf(o.key),
    }),
    etag: t.string({ nullable: true, resolve: (o) => o.etag ?? null }),
    lastModified: t.field({ type: "DateTime", nullable: true, resolve: (o) => o.lastModified ?? null }),
  }),
});

const Listing = builder.objectRef<{ folders: string[]; objects: StoredObject[]; nextAfter: string | null }>("ObjectListing").implement({
  fields: (t) => ({
    folders: t.exposeStringList("folders", { description: "Sub-folders of the prefix, each ending in /." }),
    objects: t.field({ type: [StoredObjectRef], resolve: (l) => l.objects }),
    nextAfter: t.string({
      nullable: true,
      description: "Where the next page starts (pass it as `after`); null on the last page.",
      resolve: (l) => l.nextAfter,
    }),
  }),
});

const Uploaded = builder.objectRef<SavedObject>("UploadedObject").implement({
  fields: (t) => ({
    key: t.exposeString("key"),
    size: t.float({ resolve: (o) => o.size }),
    contentType: t.exposeString("contentType"),
    etag: t.string({ nullable: true, resolve: (o) => o.etag ?? null }),
  }),
});

builder.queryFields((t) => ({
  objects: t.field({
    type: Listing,
    description:
      "Folders and objects directly under the prefix (\"\" is the root), one page at a time: up to `first` (1-1000) names in byte order, folders and objects together, starting after `after`.",
    args: {
      prefix: t.arg.string({ required: true }),
      first: t.arg.int({ defaultValue: 1000 }),
      after: t.arg.string({ description: "The `nextAfter` of the previous page." }),
    },
    // A page of up to 1,000 names is one request to the store: it costs by its size, not as a list of lists.
    complexity: (args) => ({ field: Math.ceil(Math.min(Math.max(args.first ?? 1000, 1), 1000) / 10), multiplier: 1 }),
    resolve: (_r, args, ctx) => ctx.services.storage.list(args.prefix, { limit: args.first ?? 1000, after: args.after ?? null }),
  }),
  object: t.field({
    type: StoredObjectRef,
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.storage.getMetadata(args.key).catch(notFoundAsNull),
  }),
  objectsUnder: t.field({
    type: FolderContents,
    description: `The objects below a folder, every level, up to ${MAX_BULK_OBJECTS} (what deleteFolder would delete).`,
    args: { folder: t.arg.string({ required: true }) },
    complexity: { field: 100, multiplier: 1 },
    resolve: (_r, args, ctx) => ctx.services.storage.listUnder(args.folder),
  }),
  presignedUrl: t.field({
    type: "String",
    nullable: true,
    description: "A link that downloads the object without a token until it expires; null when there is no such object.",
    args: { key: t.arg.string({ required: true }), expiresIn: t.arg.int({ defaultValue: 3600, description: "Seconds, 1 to 604800." }) },
    resolve: async (_r, args, ctx) => {
      if (!(await ctx.services.storage.exists(args.key))) return null;
      return ctx.services.storage.getPresignedUrl(args.key, args.expiresIn ?? 3600);
    },
  }),
}));

const FolderContents = builder.objectRef<{ keys: string[]; more: boolean }>("FolderContents").implement({
  fields: (t) => ({
    count: t.int({ resolve: (c) => c.keys.length }),
    keys: t.exposeStringList("keys"),
    more: t.exposeBoolean("more", { description: `True when there are more than ${MAX_BULK_OBJECTS} objects: deleteFolder would refuse.` }),
  }),
});

builder.mutationFields((t) => ({
  uploadObject: t.field({
    type: Uploaded,
    errors: {},
    description: "Stores the file under the key (multipart request); replaces an object already there. Its content type is that of the key's name.",
    args: { key: t.arg.string({ required: true }), file: t.arg({ type: "File", required: true }) },
    resolve: (_r, args, ctx) => {
      const body = Readable.from(chunksOf(args.file.stream()));
      // The type the client gives the file is ignored: it is that of the key's name.
      return ctx.services.storage.saveStream(body, args.key, undefined, args.file.size);
    },
  }),
  deleteObject: t.field({
    type: "Boolean",
    errors: {},
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_r, args, ctx) => {
      await ctx.services.storage.delete(args.key);
      return true;
    },
  }),
  moveObject: t.field({
    type: StoredObjectRef,
    errors: {},
    description: "Renames or moves an object (copy, then delete the source). Refuses a target that holds an object unless `overwrite`.",
    args: { from: t.arg.string({ required: true }), to: t.arg.string({ required: true }), overwrite: t.arg.boolean({ defaultValue: false }) },
    resolve: (_r, args, ctx) => ctx.services.storage.move(args.from, args.to, { overwrite: args.overwrite ?? false }),
  }),
  copyObject: t.field({
    type: StoredObjectRef,
    errors: {},
    args: { from: t.arg.string({ required: true }), to: t.arg.string({ required: true }), overwrite: t.arg.boolean({ defaultValue: false }) },
    resolve: (_r, args, ctx) => ctx.services.storage.copy(args.from, args.to, { overwrite: args.overwrite ?? false }),
  }),
  createFolder: t.field({
    type: "String",
    errors: {},
    description: "Makes an empty folder visible (a zero-byte `.keep` object in it); returns its prefix.",
    args: { folder: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.storage.createFolder(args.folder),
  }),
  deleteObjects: t.field({
    type: "Int",
    errors: {},
    description: `Deletes up to ${MAX_BULK_OBJECTS} keys; one invalid key and none is deleted. Returns how many keys were deleted.`,
    args: { keys: t.arg.stringList({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.storage.deleteMany(args.keys),
  }),
  deleteFolder: t.field({
    type: "Int",
    errors: {},
    description: `Deletes every object below the folder, or nothing (TooManyObjectsError) when there are more than ${MAX_BULK_OBJECTS}. Returns how many.`,
    args: { folder: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => ctx.services.storage.deleteFolder(args.folder),
  }),
}));

function notFoundAsNull(error: unknown): null {
  if (error instanceof ObjectNotFoundError) return null;
  throw error;
}

