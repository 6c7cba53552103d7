import { GraphQLError, Kind, type ASTVisitor, type FieldNode, type SelectionSetNode, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Introspection is priced by its own rules, so that graphql-js's standard query (and every tool
 * built on it: GraphiQL, GraphQL Code Generator, Apollo, Postman) passes while a hostile one
 * does not. The general depth limit leaves `__schema` alone; instead, per operation:
 *   - at most one `__schema` and a few `__type` fields (aliases would repeat the whole schema);
 *   - within them, a type's members (fields, inputFields, interfaces, possibleTypes, enumValues)
 *     are expanded at most once on any path: `types { fields { type { fields ...` multiplies the
 *     schema by itself and no tool needs it;
 *   - a depth of at most INTROSPECTION_MAX_DEPTH, enough for the standard query's nine
 *     levels of `ofType`.
 */
export const INTROSPECTION_MAX_DEPTH = 20;
const MAX_SCHEMA_FIELDS = 1;
const MAX_TYPE_FIELDS = 10;
const EXPANDING = new Set(["fields", "inputFields", "interfaces", "possibleTypes", "enumValues"]);
/** Fragments spread inside fragments could make the walk exponential; past this many selections it stops and refuses. */
const MAX_VISITS = 50_000;

function tooLarge(message: string): GraphQLError {
  return new GraphQLError(`introspection refused: ${message}`, { extensions: { code: "INTROSPECTION_TOO_LARGE" } });
}

function tooDeep(depth: number): GraphQLError {
  return new GraphQLError(`introspection depth limit of ${INTROSPECTION_MAX_DEPTH} exceeded, found ${depth}.`, {
    extensions: { code: "QUERY_TOO_DEEP", limit: INTROSPECTION_MAX_DEPTH },
  });
}

export function introspectionRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      let schemaFields = 0;
      let typeFields = 0;
      let expandedTwice = false;
      let deepest = 0;
      let visits = 0;
      // Fragments are followed; a fragment spread inside itself is already an error of the standard rules.
      const walk = (set: SelectionSetNode, depth: number, expansions: number, inIntrospection: boolean, seen: Set<string>) => {
        for (const selection of set.selections) {
          if (++visits > MAX_VISITS) return;
          if (selection.kind === Kind.FRAGMENT_SPREAD) {
            const name = selection.name.value;
            const fragment = context.getFragment(name);
            if (fragment && !seen.has(name)) walk(fragment.selectionSet, depth, expansions, inIntrospection, new Set(seen).add(name));
            continue;
          }
          if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet, depth, expansions, inIntrospection, seen);
            continue;
          }
          const field: FieldNode = selection;
          const name = field.name.value;
          const entering = !inIntrospection && (name === "__schema" || name === "__type");
          if (entering && name === "__schema") schemaFields++;
          if (entering && name === "__type") typeFields++;
          const inside = inIntrospection || entering;
          const expanding = inside && EXPANDING.has(name) ? expansions + 1 : expansions;
          if (expanding > 1) expandedTwice = true;
          if (inside) deepest = Math.max(deepest, depth + 1);
          if (field.selectionSet) walk(field.selectionSet, depth + 1, expanding, inside, seen);
        }
      };
      walk(operation.selectionSet, 0, 0, false, new Set());
      if (visits > MAX_VISITS) context.reportError(tooLarge("the operation spreads its fragments too many times"));
      else if (schemaFields > MAX_SCHEMA_FIELDS) context.reportError(tooLarge(`at most ${MAX_SCHEMA_FIELDS} __schema field per operation, found ${schemaFields}`));
      else if (typeFields > MAX_TYPE_FIELDS) context.reportError(tooLarge(`at most ${MAX_TYPE_FIELDS} __type fields per operation, found ${typeFields}`));
      else if (expandedTwice) context.reportError(tooLarge("a type reached through another type's fields, interfaces or possible types may not be expanded again"));
      else if (deepest > INTROSPECTION_MAX_DEPTH) context.reportError(tooDeep(deepest));
    },
  };
}

export function introspectionLimits(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(introspectionRule);
    },
  };
}
