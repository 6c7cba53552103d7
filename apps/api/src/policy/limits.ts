import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { createComplexityRule } from "@pothos/plugin-complexity";
import { GraphQLError, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ListSizes } from "./list-sizes.js";

/**
 * Parsing stops past this many tokens. The largest operation in the public contract has about
 * a hundred; the limit keeps an alias flood (100 KB of `a1: x a2: x ...`) from reaching
 * validation, whose overlapping-fields check is quadratic.
 */
export const MAX_QUERY_TOKENS = 5_000;

function tooDeep(maxDepth: number) {
  return maxDepthPlugin({
    n: maxDepth,
    // `__schema` has rules of its own (introspection.ts); `__type` is counted here like any field.
    ignoreIntrospection: true,
    flattenFragments: true,
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, "").replace("Query depth limit", "query depth limit"), {
            extensions: { code: "QUERY_TOO_DEEP", limit: maxDepth },
          }),
        );
      },
    ],
  });
}

function costErrors(schema: GraphQLSchema, document: DocumentNode, context: object, variables: unknown, operationName: string | null | undefined, maxCost: number) {
  return validate(schema, document, [
    createComplexityRule({
      context,
      variableValues: (variables ?? {}) as Record<string, unknown>,
      operationName,
      validate: ({ complexity }, report) => {
        if (complexity > maxCost) {
          report(
            new GraphQLError(`query cost ${complexity} exceeds the limit of ${maxCost}: select fewer fields or ask for fewer items`, {
              extensions: { code: "QUERY_TOO_COSTLY", cost: complexity, limit: maxCost },
            }),
          );
        }
      },
    }),
  ]);
}

/**
 * Rejects an operation whose cost is over the limit before any resolver runs. The cost depends
 * on the variables (`first: $n`), so it is checked per execution, not in the validation step
 * whose results yoga caches per document.
 */
function tooCostly(maxCost: number, sizes: ListSizes): Plugin {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      await sizes.refresh();
      const errors = costErrors(args.schema, args.document, args.contextValue as object, args.variableValues, args.operationName, maxCost);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      await sizes.refresh();
      const errors = costErrors(args.schema, args.document, args.contextValue as object, args.variableValues, args.operationName, maxCost);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

/** Depth, size and cost limits for every operation, over HTTP and WebSocket alike. */
export function queryLimits(limits: { maxQueryDepth: number; maxQueryCost: number }, sizes: ListSizes): Plugin[] {
  return [maxTokensPlugin({ n: MAX_QUERY_TOKENS }) as Plugin, tooDeep(limits.maxQueryDepth) as Plugin, tooCostly(limits.maxQueryCost, sizes)];
}

function bodyTooLarge(limit: number): GraphQLError {
  return new GraphQLError(`request body is larger than ${limit} bytes (MAX_REQUEST_BYTES)`, {
    extensions: { code: "REQUEST_ENTITY_TOO_LARGE", http: { status: 413 } },
  });
}

/** The smaller of the two limits on a multipart file, and the variable that sets it. */
export interface UploadLimit {
  bytes: number;
  variable: "MAX_GRAPHQL_UPLOAD_BYTES" | "STORAGE_MAX_UPLOAD_BYTES";
}

export function graphqlUploadLimit(maxGraphqlUploadBytes: number, storageMaxUploadBytes: number): UploadLimit {
  return storageMaxUploadBytes < maxGraphqlUploadBytes
    ? { bytes: storageMaxUploadBytes, variable: "STORAGE_MAX_UPLOAD_BYTES" }
    : { bytes: maxGraphqlUploadBytes, variable: "MAX_GRAPHQL_UPLOAD_BYTES" };
}

function uploadTooLarge({ bytes, variable }: UploadLimit): GraphQLError {
  const hint = variable === "MAX_GRAPHQL_UPLOAD_BYTES" ? ": send larger files with PUT /files/<key>, which streams them" : "";
  return new GraphQLError(
    `a GraphQL multipart upload may carry at most ${bytes} bytes of file (${variable})${hint}`,
    { extensions: { code: "REQUEST_ENTITY_TOO_LARGE", http: { status: 413 } } },
  );
}

function isMultipart(request: Request): boolean {
  return (request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

/**
 * Limits request bodies to `limit` bytes, and GraphQL multipart uploads, which yoga holds in
 * memory while it parses them, to `limit` plus `uploadFileLimit`: by Content-Length when sent,
 * and by counting while reading when not (chunked). Streamed uploads (PUT /files/<key>) never
 * come here.
 */
export function requestBodyLimit(limit: number, upload: UploadLimit): Plugin {
  const uploadFileLimit = upload.bytes;
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const multipart = isMultipart(request);
      const max = multipart ? limit + uploadFileLimit : limit;
      const tooLarge = () => (multipart ? uploadTooLarge(upload) : bodyTooLarge(limit));
      const length = request.headers.get("content-length");
      if (length !== null && Number(length) > max) throw tooLarge();
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let received = 0;
        // The body may be the runtime's own stream or yoga's ponyfill; the transform must match it.
        const Transform = req.body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
        const counted = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              received += chunk.byteLength;
              if (received > max) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body: counted, duplex: "half" } as RequestInit));
      });
    },
  };
}
