// Bundles the builder into one ESM file, dist/builder.mjs, for its image
// (the options every Node bundle of the project shares: scripts/esbuild-node.mjs).
import { build } from 'esbuild';
import { nodeBundle } from '../scripts/esbuild-node.mjs';

await build({ ...nodeBundle, entryPoints: ['src/main.ts'], outfile: 'dist/builder.mjs' });
