// Bundles the builder into one ESM file, dist/builder.mjs, for its image.
// The banner gives CommonJS dependencies (dockerode, ssh2) the require,
// __filename and __dirname they expect inside an ES module.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/builder.mjs',
  bundle: true,
  platform: 'node',
  // Syntax Node 20 understands: 32-bit Arm images run Node 22 at most.
  target: 'node20',
  format: 'esm',
  external: ['cpu-features', '*.node'],
  logLevel: 'warning',
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join('\n'),
  },
});
