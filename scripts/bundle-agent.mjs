// Bundles an agent program and everything it imports into one JavaScript file for the agent
// image (deploy/Dockerfile.agent): node <out> is all a pod runs.
//   node scripts/bundle-agent.mjs [entry] [out]
// Default entry: the agent, packages/agent/src/main.ts (@berth/agent).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_AGENT_ENTRY = "packages/agent/src/main.ts";

export async function bundleAgent(entry = DEFAULT_AGENT_ENTRY, outfile = "deploy/dist/agent.mjs") {
  const out = resolve(root, outfile);
  await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: out,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: 'import { createRequire as __berthCreateRequire } from "node:module"; const require = __berthCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await bundleAgent(process.argv[2], process.argv[3]);
  console.log(`agent bundled to ${out} (${dirname(out)})`);
}
