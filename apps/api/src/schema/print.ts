import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "./index.js";

/** The schema as SDL, sorted, so that the committed snapshot changes only when the schema does. */
export function printBerthSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
