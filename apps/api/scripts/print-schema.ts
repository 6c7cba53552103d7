// Writes the printed schema to schema.graphql, the snapshot a test compares the built schema with.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { printBerthSchema } from "../src/schema/print.js";

const target = fileURLToPath(new URL("../schema.graphql", import.meta.url));
await writeFile(target, printBerthSchema());
console.log(`wrote ${target}`);
