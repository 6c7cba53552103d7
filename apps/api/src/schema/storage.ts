import { Readable } from "node:stream";
import { contentTypeOf, ObjectNotFoundError, type ObjectInfo, type ObjectMetadata, type SavedObject } from "@berth/core/storage";
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
}));

function notFoundAsNull(error: unknown): null {
  if (error instanceof ObjectNotFoundError) return null;
  throw error;
}

