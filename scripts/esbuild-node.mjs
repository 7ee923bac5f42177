// What the bundles of the gateway's image and the builder's share: one ESM
// file for Node, in syntax Node 20 understands (32-bit Arm images run Node 22
// at most), native addons left out, and a banner that gives CommonJS
// dependencies (dockerode, ssh2) the require, __filename and __dirname they
// expect inside an ES module. Each build.mjs adds its entry points.
export const nodeBundle = {
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
