// Every Dockerfile must build for amd64, arm64 and arm/v7 from the same file:
// its base is a build argument defaulting to a multi-arch image (official
// node, or our watchdog built FROM it), and it downloads or installs nothing
// architecture-specific (code is bundled to JavaScript on the host).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfiles = [
  'gateway/Dockerfile',
  'builder/Dockerfile',
  ...readdirSync(`${root}functions`)
    .map((dir) => `functions/${dir}/Dockerfile`)
    .filter((path) => existsSync(`${root}${path}`)),
].sort();
const multiArchDefaults = [/^node:24-alpine$/, /^swarmfaas\/watchdog:[0-9.]+$/];

describe.each(dockerfiles)('%s', (path) => {
  const lines = readFileSync(`${root}${path}`, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('takes its base image as a build argument with a multi-arch default', () => {
    const from = lines.filter((line) => /^FROM /i.test(line));
    expect(from).toHaveLength(1);
    const arg = /^FROM \$\{([A-Z_]+)\}$/.exec(from[0]!)?.[1];
    expect(arg, from[0]).toBeDefined();
    const declared = lines.find((line) => line.startsWith(`ARG ${arg}=`));
    const fallback = declared?.split('=')[1] ?? '';
    expect(multiArchDefaults.some((pattern) => pattern.test(fallback)), `${arg} defaults to ${fallback}`).toBe(true);
  });

  it('downloads and installs nothing during the build', () => {
    for (const line of lines) {
      expect(line, 'no remote ADD').not.toMatch(/^ADD\s+https?:/i);
      if (/^RUN /i.test(line)) {
        expect(line).not.toMatch(/\b(curl|wget|apk|apt-get|npm|yarn|pip)\b/);
      }
    }
  });
});
