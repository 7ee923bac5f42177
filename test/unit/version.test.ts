// One version for the whole project: the root package.json's. Every
// workspace package carries it, and every default written where a file cannot
// read package.json (a Dockerfile's ARG, the compose file's ${FAAS_TAG:-...})
// names it, so a release bumps one number and this test finds the rest.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const rootPackage = JSON.parse(read('package.json')) as { version: string; workspaces: string[] };
const version = rootPackage.version;

describe(`the project's version (${version})`, () => {
  it('is every workspace package\'s version, and what they ask of each other', () => {
    for (const workspace of rootPackage.workspaces) {
      const pkg = JSON.parse(read(`${workspace}/package.json`)) as { version: string; dependencies?: Record<string, string> };
      expect(pkg.version, workspace).toBe(version);
      for (const [name, wanted] of Object.entries(pkg.dependencies ?? {})) if (name.startsWith('@swarm-faas/')) expect(wanted, `${workspace} -> ${name}`).toBe(version);
    }
  });

  it('is the tag of the watchdog image every function\'s Dockerfile defaults to', () => {
    const dockerfiles = readdirSync(`${root}functions`).map((d) => `functions/${d}/Dockerfile`).filter((p) => existsSync(`${root}${p}`));
    for (const path of dockerfiles) {
      const arg = /^ARG WATCHDOG_IMAGE=(.+)$/m.exec(read(path))?.[1];
      if (arg === undefined) continue; // the watchdog's own
      expect(arg, path).toBe(`swarmfaas/watchdog:${version}`);
    }
  });

  it('is the tag the compose files fall back to', () => {
    for (const file of readdirSync(root).filter((f) => /^docker-compose.*\.yml$/.test(f))) {
      for (const [, tag] of read(file).matchAll(/\$\{FAAS_TAG:-([^}]+)\}/g)) expect(tag, file).toBe(version);
    }
  });
});
