// Builds the watchdog:
//  - dist/watchdog.mjs: the code bundled into one ESM file, pure JavaScript for
//    every architecture. The banner gives CommonJS dependencies (undici) the
//    require they expect inside an ES module.
//  - dist/spawner-linux-<arch>: classic mode's native spawner (native/spawner.c),
//    a static binary for each architecture a compiler is found for: the host's
//    `cc` for its own, Debian's cross compilers for the others
//    (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf). Static, so it runs on
//    any base image (Alpine's musl, Debian's glibc, busybox).
//
//   node build.mjs [outfile]          bundle + every spawner a compiler exists for
//   SPAWNER_ARCHS=amd64,arm64 node build.mjs   ...and fail unless these were built
//
// Imported by the unit tests and the benchmark too, so they run the same code.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { arch } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Code splitting: HTTP mode (undici, ~1 MB) is a chunk of its own, loaded only
 * in HTTP mode, so a classic-mode watchdog parses ~60 KB and stays ~20 MB
 * smaller. The bundle is `outfile`, its chunks beside it (watchdog-*.mjs).
 */
export function bundleWatchdog(outfile = join(here, 'dist/watchdog.mjs')) {
  // Chunks of an earlier build carry other hashes: remove them (the image copies watchdog*.mjs).
  const name = basename(outfile, '.mjs');
  if (existsSync(dirname(outfile))) {
    for (const file of readdirSync(dirname(outfile))) if (file.startsWith(`${name}-`) && file.endsWith('.mjs')) rmSync(join(dirname(outfile), file));
  }
  return build({
    entryPoints: { [name]: join(here, 'src/main.ts') },
    bundle: true,
    splitting: true,
    outdir: dirname(outfile),
    outExtension: { '.js': '.mjs' },
    chunkNames: 'watchdog-[name]-[hash]',
    platform: 'node',
    // Syntax Node 20 understands: 32-bit Arm has no Node 24 (see scripts/make-arm-bases.sh).
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
  });
}

/** Docker's architecture names (TARGETARCH + TARGETVARIANT) -> the C compiler that builds for it. */
const hostArch = { x64: 'amd64', arm64: 'arm64', arm: 'armv7' }[arch()];
const compilers = {
  amd64: hostArch === 'amd64' ? 'cc' : 'x86_64-linux-gnu-gcc',
  arm64: hostArch === 'arm64' ? 'cc' : 'aarch64-linux-gnu-gcc',
  armv7: hostArch === 'armv7' ? 'cc' : 'arm-linux-gnueabihf-gcc',
};
const extraFlags = { amd64: [], arm64: [], armv7: ['-march=armv7-a', '-mfpu=vfpv3-d16', '-mfloat-abi=hard'] };

export const spawnerArchs = Object.keys(compilers);

function haveCompiler(cc) {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compiles the spawner for one architecture; returns the binary's path, or undefined without a compiler. */
export function buildSpawner(dockerArch = hostArch, outfile = join(here, `dist/spawner-linux-${dockerArch}`)) {
  const cc = compilers[dockerArch];
  if (!cc) throw new Error(`no compiler known for ${dockerArch} (known: ${spawnerArchs.join(', ')})`);
  if (!haveCompiler(cc)) return undefined;
  mkdirSync(dirname(outfile), { recursive: true });
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-s', ...extraFlags[dockerArch], '-o', outfile, join(here, 'native/spawner.c')], { stdio: 'inherit' });
  // BuildKit names linux/arm64 without a variant, but a platform written linux/arm64/v8 keeps it.
  if (dockerArch === 'arm64' && outfile.endsWith('spawner-linux-arm64')) copyFileSync(outfile, `${outfile}v8`);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleWatchdog(process.argv[2]);
  const required = (process.env.SPAWNER_ARCHS ?? '').split(',').filter(Boolean);
  const missing = [];
  for (const dockerArch of spawnerArchs) {
    if (buildSpawner(dockerArch) === undefined) missing.push(dockerArch);
  }
  const needed = missing.filter((a) => required.includes(a) || a === hostArch);
  for (const a of missing.filter((m) => !needed.includes(m))) {
    console.warn(`[watchdog] no ${compilers[a]}: no spawner for ${a} (images for it cannot be built; Debian: apt-get install ${a === 'arm64' ? 'gcc-aarch64-linux-gnu' : a === 'armv7' ? 'gcc-arm-linux-gnueabihf' : 'gcc-x86-64-linux-gnu'})`);
  }
  if (needed.length) {
    console.error(`[watchdog] ERROR: cannot build the spawner for ${needed.join(', ')}: ${needed.map((a) => compilers[a]).join(', ')} not found (Debian: apt-get install gcc${needed.includes('arm64') && hostArch !== 'arm64' ? ' gcc-aarch64-linux-gnu' : ''}${needed.includes('armv7') && hostArch !== 'armv7' ? ' gcc-arm-linux-gnueabihf' : ''})`);
    process.exit(1);
  }
}
