// Reading a build request as it arrives: the limit, the HMAC over every byte,
// the context rewritten into a tar of its own, the config kept, bad tars named.
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { entryName, readBuildRequest } from '../../src/build-request.js';
import { SignatureCheck, sign, parseSignature } from '../../src/signature.js';
import { buildRequestTar, chunked, makeTar, readTar } from '../support.js';

const workDir = mkdtempSync(join(tmpdir(), 'builder-read-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const SECRET = Buffer.from('s3cret');

async function read(data: Buffer | Readable, limit = 1 << 20) {
  const check = new SignatureCheck(SECRET);
  const outcome = await readBuildRequest(Buffer.isBuffer(data) ? chunked(data, 700) : data, { limit, workDir, signature: check });
  return { outcome, check };
}

describe('reading a build request', () => {
  it('keeps the config, and rewrites context/<path> to <path> in a tar of its own', async () => {
    const body = await buildRequestTar({ image: 'hello:1' }, { Dockerfile: 'FROM x\n', 'function/handler.js': 'export default () => 1;\n', 'function/sub/a.txt': 'a' });
    const { outcome, check } = await read(body);
    expect(outcome.kind).toBe('read');
    if (outcome.kind !== 'read') return;
    expect(outcome.invalid).toBeUndefined();
    expect(outcome.bytes).toBe(body.length);
    expect(JSON.parse(outcome.config!.toString())).toEqual({ image: 'hello:1' });
    expect(outcome.contextEntries).toBe(3);
    expect(outcome.contextBytes).toBe(7 + 24 + 1);
    const entries = await readTar(createReadStream(outcome.contextFile));
    expect(entries.map((e) => [e.name, e.body])).toEqual([
      ['Dockerfile', 'FROM x\n'],
      ['function/handler.js', 'export default () => 1;\n'],
      ['function/sub/a.txt', 'a'],
    ]);
    expect(check.matches(parseSignature(sign(body, SECRET)).ok ? Buffer.from(sign(body, SECRET).slice(7), 'hex') : Buffer.alloc(0))).toBe(true);
  });

  it('keeps directories, symlinks and hard links within the context', async () => {
    const body = await makeTar([
      { name: './context/' },
      { name: './context/dir/' },
      { name: './context/dir/file', body: 'x' },
      { name: './context/link', type: 'symlink', linkname: 'dir/file' },
      { name: './context/hard', type: 'link', linkname: 'context/dir/file' },
      { name: './com.openfaas.docker.config', body: '{"image":"a"}' },
    ]);
    const { outcome } = await read(body);
    if (outcome.kind !== 'read') throw new Error(outcome.kind);
    expect(outcome.invalid).toBeUndefined();
    const entries = await readTar(createReadStream(outcome.contextFile));
    expect(entries.map((e) => [e.name, e.type, e.linkname ?? ''])).toEqual([
      ['dir', 'directory', ''],
      ['dir/file', 'file', ''],
      ['link', 'symlink', 'dir/file'],
      ['hard', 'link', 'dir/file'],
    ]);
  });

  it('stops reading at the limit, and leaves no file behind', async () => {
    const body = await buildRequestTar({ image: 'big' }, { Dockerfile: 'FROM x\n', blob: 'y'.repeat(50_000) });
    const before = readdirSync(workDir).length;
    let served = 0;
    const source = Readable.from((function* () {
      for (let i = 0; i < body.length; i += 1000) {
        served += 1000;
        yield body.subarray(i, i + 1000);
      }
    })());
    const { outcome } = await read(source, 20_000);
    expect(outcome.kind).toBe('too-large');
    expect(served).toBeLessThan(body.length); // it did not read the body whole
    expect(readdirSync(workDir).length).toBe(before);
  });

  it('names what is wrong with a tar that is not a build request, yet hashes the whole body', async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('this is not a tar at all, but it is long enough to be read as a header block '.repeat(10)), /not a valid tar/],
      [await makeTar([{ name: 'com.openfaas.docker.config', body: '{}' }]), /no context\/ folder/],
      [await makeTar([{ name: 'context/../../etc/passwd', body: 'x' }]), /leaves the archive/],
      [await makeTar([{ name: '/context/Dockerfile', body: 'x' }]), /absolute path/],
      [await makeTar([{ name: 'context/dev', type: 'character-device' }]), /is a character-device/],
      [await makeTar([{ name: 'context/h', type: 'link', linkname: '/etc/shadow' }]), /points outside context/],
    ];
    for (const [body, reason] of cases) {
      const { outcome, check } = await read(body);
      if (outcome.kind !== 'read') throw new Error(outcome.kind);
      expect(outcome.invalid, String(reason)).toMatch(reason);
      expect(outcome.bytes).toBe(body.length);
      expect(check.matches(Buffer.from(sign(body, SECRET).slice(7), 'hex'))).toBe(true);
      expect(existsSync(outcome.contextFile)).toBe(false);
    }
  });

  it('reports a body cut off by the client as aborted', async () => {
    const body = await buildRequestTar({ image: 'x' });
    const source = new Readable({ read() {} });
    source.push(body.subarray(0, 600));
    setTimeout(() => source.destroy(new Error('socket hang up')), 20);
    const { outcome } = await read(source);
    expect(outcome.kind).toBe('aborted');
  });

  it('normalises entry names and refuses any that leave the archive (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '.', '..', '', 'context'), { maxLength: 8 }), (segments) => {
        const result = entryName(segments.join('/'));
        if (segments.includes('..')) expect(result.ok).toBe(false);
        else if (result.ok) expect(result.name.split('/').every((s) => s !== '' && s !== '.' && s !== '..') || result.name === '').toBe(true);
      }),
    );
  });
});
