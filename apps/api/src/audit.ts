import { recordAudit } from "@berth/core/audit";
import type { VerifiedApiToken } from "@berth/core/tokens";
import { errorTypeMap } from "@pothos/plugin-errors";
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { BerthContext } from "./context.js";
import { errorCodeOf, returnedErrorCode } from "./errors.js";
import type { Services } from "./services.js";

/** The agent protocol: too frequent to record, and the task and pod history already tell it. */
export const UNAUDITED_MUTATIONS: ReadonlySet<string> = new Set(["registerAgent", "heartbeat", "syncAgent", "reportTask", "appendTaskLog"]);

/** Queries that hand something out and are recorded like mutations: a share link. */
export const AUDITED_QUERIES: ReadonlySet<string> = new Set(["presignedUrl"]);

/** Argument names that identify what a mutation acts on, in order of preference. Never a secret or a body. */
const TARGET_ARGS = ["id", "name", "key", "pod", "job", "prefix", "pool", "schedule"] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const identifying = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : null);

function targetOf(args: Record<string, unknown>, result: unknown): string | null {
  for (const name of TARGET_ARGS) {
    const found = identifying(args[name]);
    if (found) return found;
  }
  const input = isRecord(args.input) ? args.input : {};
  const named = identifying(input.name);
  if (named) return named;
  // What the mutation created: the new object's id or name, never other fields (a new token's secret).
  if (isRecord(result) && !errorTypeMap.has(result)) {
    for (const holder of [result, result.token, result.task]) {
      if (!isRecord(holder)) continue;
      const found = identifying(holder.id) ?? identifying(holder.name);
      if (found) return found;
    }
  }
  return identifying(input.pool) ?? identifying(input.key);
}

/** Records one entry; a failure to record is reported, never turned into a failure of the mutation. */
export async function audit(services: Pick<Services, "core">, auth: Pick<VerifiedApiToken, "name" | "role"> | null, operation: string, target: string | null, outcome: string) {
  await recordAudit(services.core, { actor: auth?.name ?? "anonymous", role: auth?.role ?? "none", operation, target, outcome }).catch((error: unknown) => {
    process.stderr.write(`berth: could not record audit entry for ${operation}: ${(error as Error)?.message ?? error}\n`);
  });
}

const wrapped = new WeakSet<GraphQLSchema>();

/**
 * Records every mutation field (other than the agent protocol) with who called it, what it
 * acted on and how it ended: `ok`, or the code of the error it threw or returned.
 */
function auditMutations(schema: GraphQLSchema): void {
  if (wrapped.has(schema)) return;
  wrapped.add(schema);
  const mutations = Object.values(schema.getMutationType()?.getFields() ?? {}).filter((f) => !UNAUDITED_MUTATIONS.has(f.name));
  const queries = Object.values(schema.getQueryType()?.getFields() ?? {}).filter((f) => AUDITED_QUERIES.has(f.name));
  for (const field of [...mutations, ...queries]) {
    const resolve: GraphQLFieldResolver<unknown, BerthContext> = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args: Record<string, unknown>, context: BerthContext, info) => {
      let result: unknown;
      try {
        result = await resolve(source, args, context, info);
      } catch (error) {
        await audit(context.services, context.auth, info.fieldName, targetOf(args, undefined), errorCodeOf(error));
        throw error;
      }
      // Fields with result unions return their expected errors instead of throwing them.
      await audit(context.services, context.auth, info.fieldName, targetOf(args, result), isRecord(result) && errorTypeMap.has(result) ? returnedErrorCode(result) : "ok");
      return result;
    };
  }
}

/** The yoga plugin: wraps the mutation resolvers of whatever schema the server uses. */
export function auditLog(): Plugin {
  return {
    onSchemaChange({ schema }) {
      auditMutations(schema);
    },
  };
}
