// Bundles the gateway into one ESM file, dist/gateway.mjs, for the image, and
// the queue worker (the same code, another entry) into dist/queue-worker.mjs.
// The banner gives CommonJS dependencies (dockerode, ssh2) the require,
// __filename and __dirname they expect inside an ES module.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { build } from 'esbuild';

const options = {
  bundle: true,
  platform: 'node',
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
};

await Promise.all([
  build({ ...options, entryPoints: ['src/programs/gateway/main.ts'], outfile: 'dist/gateway.mjs' }),
  build({ ...options, entryPoints: ['src/programs/queue-worker/main.ts'], outfile: 'dist/queue-worker.mjs' }),
  // The event connector: topics and schedules (the stack's connector service, the same image).
  build({ ...options, entryPoints: ['src/programs/connector/main.ts'], outfile: 'dist/connector.mjs' }),
]);

// The built-in store catalog: each sample function's record (functions/<name>/store.json)
// goes to dist/store/<name>/store.json, which the image serves (STORE_DIR=/app/store).
await rm('dist/store', { recursive: true, force: true });
for (const entry of await readdir('../functions', { withFileTypes: true })) {
  const record = `../functions/${entry.name}/store.json`;
  if (!entry.isDirectory() || !existsSync(record)) continue;
  await mkdir(`dist/store/${entry.name}`, { recursive: true });
  await copyFile(record, `dist/store/${entry.name}/store.json`);
}
