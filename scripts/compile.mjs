// `pnpm build:server`: compiles the server's TypeScript (packages/core, packages/agent and apps/api, src/**/*.ts)
// to JavaScript in each package's dist/, file by file, with esbuild — the transformer tsx uses
// in development, so both run the same code. Types are checked by `pnpm typecheck`, not here.
// The compiled API resolves @berth/core to its dist/ through the `berth-dist` export condition:
//   node --conditions=berth-dist apps/api/dist/server.js
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SERVER_PACKAGES = ["packages/core", "packages/agent", "apps/api"];

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
    for (const vendored of VENDORED) written.push(...(await vendor(join(dir, "dist"), vendored)));
  }
  return written;
}

/**
 * Packages whose published code is far larger than what Berth uses of it: the Kubernetes client
 * ships ~14 MiB of generated JavaScript for every API group, all loaded by its index (about
 * 50 MiB of memory and a second to load). The names a package's compiled files import from it
 * are bundled, tree-shaken and minified into dist/vendor/<file>, and those imports point there.
 */
const VENDORED = [{ specifier: "@kubernetes/client-node", file: "kubernetes-client.js" }];

async function vendor(distDir, { specifier, file }) {
  const importLine = new RegExp(`^(import\\s*\\{([^}]*)\\}\\s*from\\s*)"${specifier.replace(/[/]/g, "\\/")}";$`, "gm");
  const users = readdirSync(distDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js") && readFileSync(join(distDir, f), "utf8").includes(`"${specifier}"`));
  const names = new Set();
  for (const user of users) for (const [, , list] of readFileSync(join(distDir, user), "utf8").matchAll(importLine)) for (const name of list.split(",")) names.add(name.trim().split(/\s+as\s+/)[0]);
  names.delete("");
  if (names.size === 0) return [];
  const outfile = join(distDir, "vendor", file);
  await build({
    stdin: { contents: `export { ${[...names].sort().join(", ")} } from "${specifier}";`, resolveDir: dirname(distDir), loader: "js" },
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: 'import { createRequire as __berthCreateRequire } from "node:module"; const require = __berthCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
  for (const user of users) {
    const path = join(distDir, user);
    let target = relative(dirname(path), outfile);
    if (!target.startsWith(".")) target = `./${target}`;
    const code = readFileSync(path, "utf8").replace(importLine, (_line, head) => `${head}"${target}";`);
    if (code.includes(`"${specifier}"`)) throw new Error(`${user} imports ${specifier} in a way scripts/compile.mjs cannot vendor`);
    writeFileSync(path, code);
  }
  return [outfile];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await compileServer(process.argv.slice(2).length ? process.argv.slice(2) : SERVER_PACKAGES);
  console.log(`compiled ${files.length} files in ${Date.now() - started} ms (${SERVER_PACKAGES.map((p) => relative(root, join(root, p, "dist"))).join(", ")})`);
}
