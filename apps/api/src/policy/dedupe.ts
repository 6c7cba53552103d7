import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";

const wrapped = new WeakSet<GraphQLSchema>();
const memos = new WeakMap<object, Map<string, unknown>>();

/** Arguments as a key: object keys sorted, so `{a, b}` and `{b, a}` are one field. */
function keyOf(fieldName: string, args: Record<string, unknown>): string {
  return `${fieldName}:${JSON.stringify(args, (_key, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) : value,
  )}`;
}

/**
 * Identical root query fields (same field, same arguments, under any alias) run once per
 * request: `{ a: pools {name} b: pools {name} ... }` reads the pools once, and every alias gets
 * the same result to select from. Queries only: mutations run each time, in order, as GraphQL
 * says. Applied to the schema in place, once.
 */
export function dedupeRootQueries(schema: GraphQLSchema): GraphQLSchema {
  if (wrapped.has(schema)) return schema;
  wrapped.add(schema);
  const query = schema.getQueryType();
  for (const field of Object.values(query?.getFields() ?? {})) {
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context, info) => {
      if (!context || typeof context !== "object") return resolve(source, args, context, info);
      let memo = memos.get(context);
      if (!memo) memos.set(context, (memo = new Map()));
      const key = keyOf(info.fieldName, args);
      if (!memo.has(key)) memo.set(key, resolve(source, args, context, info));
      return memo.get(key);
    };
  }
  return schema;
}
