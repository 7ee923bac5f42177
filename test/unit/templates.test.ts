// The function templates (template/<lang>/) are what `faas-cli template pull`
// takes from this repository: the OpenFaaS layout, every base image a build
// argument with an official multi-arch default, the function's image FROM the
// watchdog of this version, unprivileged, and a build step that fails when
// the handler does not load. (They build and run: test/e2e/build.test.ts.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
const langs = readdirSync(`${root}template`).sort();
/** Official multi-arch images a template may start from (besides the watchdog). */
const OFFICIAL = [/^node:24-alpine$/, /^python:3\.\d+-alpine$/, /^bash:5\.\d+$/];

function instructions(path: string): string[] {
  return readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

describe('the templates', () => {
  it('are node, python3, bash and dockerfile', () => {
    expect(langs).toEqual(['bash', 'dockerfile', 'node', 'python3']);
  });

  describe.each(langs)('%s', (lang) => {
    const dir = `${root}template/${lang}`;
    // The dockerfile template's Dockerfile is the user's, in function/ (faas-cli builds that folder alone).
    const dockerfile = lang === 'dockerfile' ? `${dir}/function/Dockerfile` : `${dir}/Dockerfile`;
    const lines = instructions(dockerfile);

    it('has the OpenFaaS layout: template.yml naming its language, and a function/ folder to start from', () => {
      const meta = parse(readFileSync(`${dir}/template.yml`, 'utf8')) as { language: string; fprocess?: string; welcome_message?: string };
      expect(meta.language).toBe(lang);
      expect(meta.welcome_message).toBeTruthy();
      expect(readdirSync(`${dir}/function`).length).toBeGreaterThan(0);
      expect(existsSync(dockerfile)).toBe(true);
      // fprocess (faas-cli deploys it as envProcess) is the image's own.
      if (meta.fprocess) expect(lines.join('\n')).toContain(`fprocess="${meta.fprocess}"`);
    });

    it('takes every base image as a build argument with an official multi-arch default, and ends FROM the watchdog', () => {
      const stages = new Set<string>();
      const from = lines.filter((line) => /^FROM /i.test(line));
      for (const line of from) {
        const match = /^FROM \$\{([A-Z_]+)\}(?: AS (\w+))?$/i.exec(line);
        expect(match, line).not.toBeNull();
        const arg = match![1]!;
        const fallback = lines.find((l) => l.startsWith(`ARG ${arg}=`))?.split('=')[1] ?? '';
        const ok = arg === 'WATCHDOG_IMAGE' ? fallback === `swarmfaas/watchdog:${version}` : OFFICIAL.some((p) => p.test(fallback));
        expect(ok, `${arg} defaults to "${fallback}"`).toBe(true);
        if (match![2]) stages.add(match![2]);
      }
      expect(from.at(-1)).toBe('FROM ${WATCHDOG_IMAGE}');
      // Nothing is copied from an image that is not a stage of the file.
      for (const line of lines.filter((l) => /--from=/.test(l))) expect(stages.has(/--from=(\w+)/.exec(line)![1]!), line).toBe(true);
    });

    it('runs as the unprivileged user of the watchdog image', () => {
      const users = lines.filter((line) => /^USER /i.test(line));
      if (users.length) expect(users.at(-1)).toBe('USER app');
    });

  });

  // (The dockerfile template's Dockerfile is the user's own.)
  it.each([
    ['node', /watchdog\.mjs", "--check"/],
    ['python3', /compileall .* index\.py --check/],
    ['bash', /bash -n \/home\/app\/function\/handler\.sh/],
  ])('%s fails its build when the handler does not load', (lang, check) => {
    expect(instructions(`${root}template/${lang}/Dockerfile`).some((line) => /^RUN /.test(line) && check.test(line)), String(check)).toBe(true);
  });
});
