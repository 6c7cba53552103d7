import { GraphQLError, type ASTVisitor, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * No string a client sends may carry a NUL character: PostgreSQL's text refuses it, and
 * nothing Berth stores (names, keys, payloads) has a use for it. Checked for every operation,
 * literals at validation and variables before execution, so each field need not know.
 */
function nulRefused(where: string): GraphQLError {
  return new GraphQLError(`invalid input: ${where} contains a NUL character (\\u0000), which no value may carry`, {
    extensions: { code: "BAD_USER_INPUT" },
  });
}

function nulLiterals(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes("\u0000")) context.reportError(nulRefused("a string in the document"));
    },
  };
}

/** The path of the first string holding a NUL, or null. Variables come parsed from JSON: no cycles. */
function findNul(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = findNul(key, `${path} (a key)`) ?? findNul(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

export function refuseNulCharacters(): Plugin {
  const check = (variables: unknown, stop: (result: { errors: GraphQLError[] }) => void) => {
    const found = variables && typeof variables === "object" ? findNul(variables, "$") : null;
    if (found) stop({ errors: [nulRefused(`variable ${found.replace(/^\$\.?/, "$")}`)] });
  };
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(nulLiterals);
    },
    onExecute({ args, setResultAndStopExecution }) {
      check(args.variableValues, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      check(args.variableValues, setResultAndStopExecution);
    },
  };
}
