// Every module of the UI is typechecked: it opts in with // @ts-check and
// gateway/tsconfig.ui.json (run by npm run typecheck) includes it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const GATEWAY = fileURLToPath(new URL('../../../', import.meta.url));
const JS = join(GATEWAY, 'ui/js');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}

describe('UI typechecking', () => {
  it('has // @ts-check on the first line of every module', () => {
    const files = modules(JS);
    expect(files.length).toBeGreaterThan(10);
    const unchecked = files.filter((f) => readFileSync(f, 'utf8').split('\n')[0]?.trim() !== '// @ts-check').map((f) => relative(GATEWAY, f));
    expect(unchecked).toEqual([]);
  });

  it('is in the typecheck the root package runs', () => {
    const config = readFileSync(join(GATEWAY, 'tsconfig.ui.json'), 'utf8');
    expect(config).toContain('"checkJs": true');
    expect(config).toContain('"strict": true');
    expect(config).toContain('"ui/js/**/*.js"');
    const root = JSON.parse(readFileSync(join(GATEWAY, '../package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(root.scripts.typecheck).toContain('tsc -p gateway/tsconfig.ui.json');
  });
});
