// Prisma's schema engine, run as WebAssembly so that migrations can be generated
// and checked for drift without the native engine binary.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

type SchemaFile = { path: string; content: string };
type DiffTarget =
  | { tag: "empty" }
  | { tag: "schemaDatamodel"; files: SchemaFile[] }
  | { tag: "schemaDatasource"; files: SchemaFile[]; configDir: string };

interface WasmSchemaEngine {
  diff(params: {
    from: DiffTarget;
    to: DiffTarget;
    script: boolean;
    exitCode: boolean | null;
    filters: { externalTables: string[]; externalEnums: string[] };
  }): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

// Node has WebAssembly at run time; its typings live in the DOM lib, which this project does not load.
type WasmExports = Record<string, unknown>;
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: WasmExports } }> };
};

interface WasmBindings {
  __wbg_set_wasm(exports: WasmExports): void;
  SchemaEngine: {
    new: (
      options: { datamodels: [string, string][] },
      log: (message: string) => void,
      adapter: unknown,
    ) => Promise<WasmSchemaEngine>;
  };
}

let bindings: Promise<WasmBindings> | undefined;

async function loadBindings(): Promise<WasmBindings> {
  const require = createRequire(import.meta.url);
  const folder = dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const module = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as WasmBindings;
  const bytes = await readFile(join(folder, "schema_engine_bg.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": module as never });
  module.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return module;
}

export interface SchemaDiff {
  /** SQL that takes `from` to `to`; empty when they match. */
  sql: string;
  /** 0 when nothing differs, 2 when a difference was found. */
  exitCode: number;
}

/**
 * Diffs the database behind `adapter` (or an empty database) against the Prisma schema text.
 * `from: "database"` introspects the live database; `from: "empty"` starts from nothing.
 */
export async function diffSchema(options: {
  schema: string;
  schemaPath: string;
  adapter: SqlMigrationAwareDriverAdapterFactory;
  from: "empty" | "database";
}): Promise<SchemaDiff> {
  bindings ??= loadBindings();
  const { SchemaEngine } = await bindings;
  const files = [{ path: options.schemaPath, content: options.schema }];
  const engine = await SchemaEngine.new(
    { datamodels: [[options.schemaPath, options.schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(options.adapter),
  );
  try {
    const result = await engine.diff({
      from: options.from === "empty" ? { tag: "empty" } : { tag: "schemaDatasource", files, configDir: dirname(options.schemaPath) },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return { sql: (result.stdout ?? "").trim(), exitCode: result.exitCode };
  } finally {
    engine.free();
  }
}
