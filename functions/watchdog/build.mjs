// Bundles the watchdog into one ESM file (dist/watchdog.mjs by default, or the
// path given), pure JavaScript for every architecture. The banner gives
// CommonJS dependencies (undici) the require they expect inside an ES module.
// Imported by the unit tests and the benchmark too, so they run the same bundle.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function bundleWatchdog(outfile = join(here, 'dist/watchdog.mjs')) {
  return build({
    entryPoints: [join(here, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleWatchdog(process.argv[2]);
