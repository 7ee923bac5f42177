import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicAuthChecker, readCredentials } from '../../src/programs/gateway/http/basic-auth.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function secrets(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-secrets-'));
  dirs.push(dir);
  for (const [name, value] of Object.entries(files)) await writeFile(join(dir, name), value);
  return dir;
}

describe('credentials from Docker secrets', () => {
  it('reads and trims the user and password files', async () => {
    const dir = await secrets({ 'basic-auth-user': 'admin\n', 'basic-auth-password': 'pa:ss word\n' });
    expect(await readCredentials(dir)).toEqual({ user: 'admin', password: 'pa:ss word' });
  });

  it('refuses to start without them, naming the file, and never showing the password', async () => {
    const dir = await secrets({ 'basic-auth-user': 'admin' });
    await expect(readCredentials(dir)).rejects.toThrow(/basic-auth-password/);
    const empty = await secrets({ 'basic-auth-user': 'admin', 'basic-auth-password': '\n' });
    await expect(readCredentials(empty)).rejects.toThrow(/empty/);
  });
});

describe('BasicAuthChecker', () => {
  const checker = new BasicAuthChecker({ user: 'admin', password: 'pa:ss word' });
  const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

  it('accepts exactly the right user and password (a colon may be in the password)', () => {
    expect(checker.check(header('admin:pa:ss word'))).toBe(true);
    expect(checker.check(`basic ${Buffer.from('admin:pa:ss word').toString('base64')}`)).toBe(true);
  });

  it.each([undefined, '', 'Bearer abc', header('admin:pa:ss'), header('Admin:pa:ss word'), header('admin'), header(':pa:ss word'), 'Basic !!!'])('refuses %s', (value) => {
    expect(checker.check(value)).toBe(false);
  });
});
