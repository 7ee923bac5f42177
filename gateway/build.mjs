// Bundles the three programs of the gateway's image, each into one ESM file:
// dist/gateway.mjs, dist/queue-worker.mjs (the same image, another entry),
// dist/connector.mjs, with the options every Node bundle of the project shares
// (scripts/esbuild-node.mjs).
//
// Small on purpose (every byte of a bundle is held in memory as its source
// text, twice as much when one character is not ASCII): comments and white
// space go, non-ASCII characters are escaped, and ssh2 (docker-modem's
// transport for ssh:// engines, which the gateway never uses: it talks to the
// socket) is left out; its WebAssembly poly1305 alone held 16 MiB.
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { nodeBundle } from '../scripts/esbuild-node.mjs';

/** ssh2 becomes a module whose client says why it is not there. */
const withoutSsh2 = {
  name: 'without-ssh2',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'without-ssh2' }));
    b.onLoad({ filter: /.*/, namespace: 'without-ssh2' }, () => ({
      contents: "exports.Client = class { constructor() { throw new Error('ssh:// Docker hosts are not supported: use the socket or tcp://'); } };",
      loader: 'js',
    }));
  },
};

const options = {
  ...nodeBundle,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  charset: 'ascii',
  plugins: [withoutSsh2],
};

await Promise.all([
  build({ ...options, entryPoints: ['src/programs/gateway/main.ts'], outfile: 'dist/gateway.mjs' }),
  build({ ...options, entryPoints: ['src/programs/queue-worker/main.ts'], outfile: 'dist/queue-worker.mjs' }),
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

// The function templates the UI's "New function" page builds from (TEMPLATE_DIR=/app/template).
await rm('dist/template', { recursive: true, force: true });
await cp('../template', 'dist/template', { recursive: true });

// The UI's code editor (CodeMirror 6) in one file of its own, which only the
// New function page loads (ui/js/views/editor.js): the first load stays small.
await build({
  entryPoints: ['ui-src/codemirror.js'],
  outfile: 'dist/ui-vendor/codemirror.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  charset: 'ascii',
  logLevel: 'warning',
});
