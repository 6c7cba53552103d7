// `pnpm build:server`: compiles the server's TypeScript (packages/core and apps/api, src/**/*.ts)
// to JavaScript in each package's dist/, file by file, with esbuild — the transformer tsx uses
// in development, so both run the same code. Types are checked by `pnpm typecheck`, not here.
// The compiled API resolves @berth/core to its dist/ through the `berth-dist` export condition:
//   node --conditions=berth-dist apps/api/dist/server.js
import { rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SERVER_PACKAGES = ["packages/core", "apps/api"];

/** Compiles each package's src/ into its dist/ (emptied first); returns the files written. */
export async function compileServer(packages = SERVER_PACKAGES) {
  const written = [];
  for (const pkg of packages) {
    const dir = join(root, pkg);
    rmSync(join(dir, "dist"), { recursive: true, force: true });
    const result = await build({
      entryPoints: [join(dir, "src/**/*.ts")],
      outbase: join(dir, "src"),
      outdir: join(dir, "dist"),
      platform: "node",
      format: "esm",
      // Lowers what Node 20 lacks (standard decorators); everything else is left as written.
      target: "node20",
      sourcemap: true,
      logLevel: "warning",
      metafile: true,
    });
    written.push(...Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")));
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await compileServer(process.argv.slice(2).length ? process.argv.slice(2) : SERVER_PACKAGES);
  console.log(`compiled ${files.length} files in ${Date.now() - started} ms (${SERVER_PACKAGES.map((p) => relative(root, join(root, p, "dist"))).join(", ")})`);
}
